// Scans the Terraform JSON of every level with checkov (PyPI). Every check either passes or is
// skipped in checkov.yaml with a comment saying why the lab needs it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { labforge, ROOT } from '../cli/run.js';

const CHECKOV_VERSION = '3.3.30';

function findCheckov(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const candidates = [process.env.LABFORGE_CHECKOV, join(cache, `labforge/checkov-${CHECKOV_VERSION}/bin/checkov`)];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found)
    throw new Error(`checkov ${CHECKOV_VERSION} not found: run scripts/setup.sh --test (pip install checkov==${CHECKOV_VERSION})`);
  return found;
}

interface CheckovFailure {
  check_id: string;
  check_name: string;
  resource: string;
  file_path: string;
}

describe('checkov scan of every level', () => {
  let failed: CheckovFailure[] = [];
  let passed = 0;

  beforeAll(() => {
    const checkov = findCheckov();
    const out = mkdtempSync(join(tmpdir(), 'lf-checkov-'));
    const synth = labforge(['synth', 'all', '--out', out, '--allow-cidr', '203.0.113.0/24']);
    expect(synth.code, synth.stderr).toBe(0);
    const expert3 = labforge(['synth', 'expert', '--name', 'expert3', '--regions', 'us-east-1,eu-west-1,ap-southeast-1', '--out', out]);
    expect(expert3.code, expert3.stderr).toBe(0);
    const r = spawnSync(
      checkov,
      [
        '-d',
        join(out, 'stacks'),
        '--framework',
        'terraform_json',
        '--config-file',
        join(ROOT, 'checkov.yaml'),
        '-o',
        'json',
        '--quiet',
        '--compact',
        '--skip-download',
      ],
      { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
    );
    // checkov exits 1 when a check fails; anything else without JSON is a crash.
    expect(r.stdout.trim().startsWith('{') || r.stdout.trim().startsWith('['), `checkov crashed: ${r.stderr.slice(-2000)}`).toBe(true);
    const reports = [JSON.parse(r.stdout)].flat() as { results: { failed_checks: CheckovFailure[] }; summary: { passed: number } }[];
    failed = reports.flatMap((rep) => rep.results.failed_checks);
    passed = reports.reduce((n, rep) => n + rep.summary.passed, 0);
  }, 300_000);

  it('runs a meaningful number of checks', () => {
    expect(passed).toBeGreaterThan(100);
  });

  it('finds no failed check that checkov.yaml does not justify', () => {
    const summary = failed.map((f) => `${f.check_id} ${f.resource} (${f.file_path}): ${f.check_name}`);
    expect(summary).toEqual([]);
  });

  it('justifies every skipped check with a comment', () => {
    const lines = readFileSync(join(ROOT, 'checkov.yaml'), 'utf8').split('\n');
    const unjustified = lines.filter((line) => /^\s*-\s*CKV/.test(line) && !/#\s*\S.{10,}/.test(line));
    expect(unjustified).toEqual([]);
  });
});
