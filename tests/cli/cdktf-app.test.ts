// The repo is also a cdktf app (cdktf.json), for cdktf users: `npx cdktf synth` must synthesize
// every stack and leave the working tree as it found it (cdktf-cli writes a projectId into a
// cdktf.json that lacks one).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './run.js';

describe('npx cdktf synth on the repo (cdktf-cli 0.21, the real one)', () => {
  it('writes every stack and leaves the working tree clean', () => {
    const before = spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout;
    const out = mkdtempSync(join(tmpdir(), 'lf-cdktf-'));
    try {
      const r = spawnSync(join(ROOT, 'node_modules/.bin/cdktf'), ['synth', '--output', out], {
        cwd: ROOT,
        encoding: 'utf8',
        // The user's environment: cdktf-cli writes the projectId when its telemetry is on (the default).
        env: { ...process.env, CHECKPOINT_DISABLE: undefined },
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      for (const stack of ['beginner', 'intermediate', 'advanced', 'advanced-k8s', 'expert', 'expert-k8s']) {
        expect(existsSync(join(out, 'stacks', stack, 'cdk.tf.json')), stack).toBe(true);
      }
      const after = spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout;
      expect(after).toBe(before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);
});
