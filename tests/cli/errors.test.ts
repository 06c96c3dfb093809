import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labforge } from './run.js';

/** Every bad input: exit 2, exactly one line on stderr naming the bad value, nothing on stdout. */
const BAD_INPUTS: [string, string[], RegExp][] = [
  ['unknown level (show)', ['show', 'guru'], /^labforge: unknown level 'guru' \(valid: beginner, intermediate, advanced, expert\)$/],
  ['unknown level (cost)', ['cost', 'guru'], /unknown level 'guru'/],
  ['unknown level (synth)', ['synth', 'guru'], /unknown level 'guru' \(valid: beginner/],
  ['unknown target', ['synth', 'beginner', '--target', 'azure'], /^labforge: unknown target 'azure' \(valid: aws, k8s, pulumi\)$/],
  [
    'level without Kubernetes (synth k8s)',
    ['synth', 'beginner', '--target', 'k8s'],
    /^labforge: the beginner lab has no Kubernetes workloads: --target k8s takes advanced, expert \(or all\)$/,
  ],
  [
    'level without Kubernetes (up k8s)',
    ['up', 'intermediate', '--target', 'k8s'],
    /^labforge: the intermediate lab has no Kubernetes workloads \(levels with them: advanced, expert\)$/,
  ],
  [
    'local option on k8s',
    ['up', 'expert', '--target', 'k8s', '--latency-ms', '5'],
    /^labforge: --latency-ms applies to --target local only$/,
  ],
  ['k8s option on local', ['up', 'advanced', '--context', 'kind-kind'], /^labforge: --context applies to --target k8s only$/],
  [
    'bad rollout timeout',
    ['up', 'advanced', '--target', 'k8s', '--timeout', 'soon'],
    /^labforge: bad --timeout 'soon' \(expected 1s to 60m, e.g. 90s or 5m\)$/,
  ],
  [
    'unknown kube context',
    ['up', 'advanced', '--target', 'k8s', '--context', 'nowhere'],
    /^labforge: unknown kube context 'nowhere' \(valid: /,
  ],
  ['unknown region', ['synth', 'expert', '--regions', 'us-east-1,mars-1'], /unknown region 'mars-1' \(valid: us-east-1, /],
  ['too few regions for expert', ['synth', 'expert', '--regions', 'us-east-1'], /needs at least 2/],
  ['bad CIDR', ['synth', 'beginner', '--allow-cidr', '10.0.0.300/32'], /bad --allow-cidr '10.0.0.300\/32'/],
  ['world-open CIDR', ['synth', 'beginner', '--allow-cidr', '0.0.0.0/0'], /'0.0.0.0\/0' is too wide/],
  ['bad TTL', ['synth', 'beginner', '--ttl', 'forever'], /bad --ttl 'forever' \(expected a duration such as 90m, 4h or 2d\)/],
  ['bad owner', ['synth', 'beginner', '--owner', 'a b'], /bad --owner 'a b'/],
  ['bad lab name', ['synth', 'beginner', '--name', 'My_Lab'], /bad lab name 'My_Lab'/],
  ['zero participants', ['cost', 'beginner', '--participants', '0'], /bad --participants '0' \(expected a whole number from 1 to 500\)/],
  ['unknown target (cost)', ['cost', 'beginner', '--target', 'azure'], /^labforge: unknown target 'azure' \(valid: aws, pulumi\)$/],
  ['unknown target (resources)', ['resources', 'beginner', '--target', 'nope'], /^labforge: unknown target 'nope' \(valid: aws, pulumi\)$/],
  ['unknown level (resources)', ['resources', 'guru'], /^labforge: unknown level 'guru' \(valid: beginner/],
  ['unknown command', ['deploy'], /Unknown argument: deploy/],
  ['unknown option', ['list', '--colour'], /Unknown argument/],
  ['missing level', ['show'], /Not enough non-option arguments/],
];

describe('bad input', () => {
  it.each(BAD_INPUTS)('%s: exit 2 with one line naming the value', (_name, args, message) => {
    const r = labforge(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('writes nothing when synth input is bad', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lf-cli-')), 'out');
    const r = labforge(['synth', 'all', '--out', out, '--ttl', '3 weeks']);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('shows no stack trace without --verbose', () => {
    const r = labforge(['show', 'guru']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('fast paths', () => {
  // show reads the costs the build priced; cost and resources build an inventory (cdktf), their --help does not.
  it.each([['--help'], ['list'], ['show', 'expert'], ['show', 'beginner', '--json'], ['cost', '--help'], ['resources', '--help']])(
    '`labforge %s` loads no engine (cdktf, Pulumi, provider, clients)',
    (...args) => {
      const r = labforge(args, { nodeArgs: ['--require', join(import.meta.dirname, 'report-loaded.cjs')] });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('LOADED []');
    },
  );

  // Pulumi loads only for what runs the Pulumi program (resources/cost --target pulumi).
  const loaded = (args: string[]) => {
    const r = labforge(args, { nodeArgs: ['--require', join(import.meta.dirname, 'report-loaded.cjs')] });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stderr.match(/LOADED (\[.*\])/)![1]!) as string[];
  };
  const out = mkdtempSync(join(tmpdir(), 'lf-loaded-'));
  it.each([
    { args: ['synth', 'beginner', '--out', join(out, 'aws')], cdktf: true },
    { args: ['synth', 'beginner', '--target', 'pulumi', '--out', join(out, 'pulumi')], cdktf: false },
    { args: ['resources', 'beginner'], cdktf: true },
    { args: ['cost', 'beginner'], cdktf: true },
  ])('`labforge $args` loads no Pulumi module (cdktf: $cdktf)', ({ args, cdktf }) => {
    const modules = loaded(args);
    expect(modules.filter((m) => m.startsWith('@pulumi/'))).toEqual([]);
    expect(modules.some((m) => m.startsWith('cdktf/'))).toBe(cdktf);
  });

  it('`labforge resources beginner --target pulumi` loads Pulumi and not cdktf', () => {
    const modules = loaded(['resources', 'beginner', '--target', 'pulumi']);
    expect(modules.some((m) => m.startsWith('@pulumi/aws/'))).toBe(true);
    expect(modules.filter((m) => m.startsWith('cdktf/') || m.startsWith('@cdktf/'))).toEqual([]);
  });
});

describe('data commands', () => {
  it('list --json gives the four levels with skill counts', () => {
    const r = labforge(['list', '--json']);
    expect(r.code).toBe(0);
    const labs = JSON.parse(r.stdout) as { level: string; skills: number }[];
    expect(labs.map((l) => [l.level, l.skills])).toEqual([
      ['beginner', 5],
      ['intermediate', 5],
      ['advanced', 5],
      ['expert', 6],
    ]);
  });

  it('show prints components, skills, exercises and the hourly cost', () => {
    const r = labforge(['show', 'beginner']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/postgres\s+db\s+PostgreSQL 15/);
    expect(r.stdout).toContain('Skills (5):');
    expect(r.stdout).toContain('beginner-api-db: REST endpoints backed by the database');
    expect(r.stdout).toMatch(/Estimated AWS cost: \$0\.0\d\d\/hour in us-east-1/);
  });

  it('cost --json multiplies by participants and hours', () => {
    const r = labforge(['cost', 'advanced', '--participants', '12', '--hours', '3', '--json']);
    expect(r.code).toBe(0);
    const cost = JSON.parse(r.stdout) as { hourly: number; total: number; pricesTakenOn: string };
    expect(cost.total).toBeCloseTo(cost.hourly * 36, 6);
    expect(cost.pricesTakenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
