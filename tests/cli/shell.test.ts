// labforge as a user's shell meets it: on PATH through scripts/link-bin.sh, `--version`, and tab
// completion through the script `labforge completion` prints, run by a real bash.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from './run.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let binDir: string;
let home: string;

/** Runs bash with only the linked folder and the system's on PATH, as a fresh shell would have. */
function bash(script: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`, HOME: home, LABFORGE_HOME: join(home, '.labforge'), ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  binDir = mkdtempSync(join(tmpdir(), 'lf-bin-'));
  home = mkdtempSync(join(tmpdir(), 'lf-home-'));
});
afterAll(() => {
  rmSync(binDir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('labforge on PATH (scripts/link-bin.sh)', () => {
  it('links bin/labforge.js into the chosen folder, and `labforge --version` answers through the link', () => {
    const linked = bash(`LABFORGE_BIN_DIR=${binDir} ${ROOT}/scripts/link-bin.sh`);
    expect(linked.code).toBe(0);
    expect(realpathSync(join(binDir, 'labforge'))).toBe(realpathSync(BIN));
    expect(linked.stderr).toContain(`labforge is on PATH (${binDir}/labforge`);
    const v = bash('labforge --version');
    expect(v.stdout.trim()).toBe(version);
  });

  it('says when the folder it linked into is not on PATH, and how to add it', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'lf-bin-off-'));
    try {
      const r = bash(`LABFORGE_BIN_DIR=${elsewhere} ${ROOT}/scripts/link-bin.sh`);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`${elsewhere} is not on PATH: add it (echo 'export PATH="${elsewhere}:$PATH"' >> ~/.bashrc`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('tab completion (labforge completion, in bash)', () => {
  /** COMPREPLY after the user typed `words` and pressed Tab, through the real completion function. */
  function complete(words: string[]): string[] {
    bash(`LABFORGE_BIN_DIR=${binDir} ${ROOT}/scripts/link-bin.sh`);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const r = bash(
      `source <(labforge completion); COMP_WORDS=(labforge ${quoted}); COMP_CWORD=${words.length}; _labforge_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
    );
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it('completes command names', () => {
    expect(complete(['st'])).toEqual(['status']);
  });

  it('completes levels where a command takes one, and `all` for synth', () => {
    expect(complete(['up', ''])).toEqual(['beginner', 'intermediate', 'advanced', 'expert']);
    expect(complete(['synth', 'a'])).toEqual(['advanced', 'all']);
  });

  it('completes targets after --target', () => {
    expect(complete(['up', 'beginner', '--target', ''])).toEqual(['local', 'aws', 'k8s', 'pulumi']);
  });

  it('completes the labs of the labforge home where a command takes a lab', () => {
    for (const name of ['alpha', 'beta']) {
      mkdirSync(join(home, '.labforge', name), { recursive: true });
      writeFileSync(
        join(home, '.labforge', name, 'state.json'),
        JSON.stringify({ level: 'beginner', target: 'local', createdAt: new Date().toISOString() }),
      );
    }
    expect(complete(['down', ''])).toEqual(['alpha', 'beta']);
    expect(complete(['health', 'b'])).toEqual(['beta']);
  });

  it('completes options of the command', () => {
    expect(complete(['up', 'beginner', '--ba'])).toEqual(['--backend']);
  });
});
