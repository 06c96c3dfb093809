// A workshop on the pulumi target, driven through a FAKE pulumi CLI (mock; tests/cli/fake-pulumi.ts):
// the real CLI and AWS cannot run here. What is real: labforge's workshop flow around it, one
// stack per participant, their state, the handout from the stacks' outputs, the combined teardown.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandbox } from './fake-pulumi.js';
import { labforge } from './run.js';

const parent = mkdtempSync(join(tmpdir(), 'lf-workshop-pulumi-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('workshop on the pulumi target (fake pulumi CLI, mock)', () => {
  const s = sandbox(parent, 'ws', true);
  const labs = ['wp-p01', 'wp-p02', 'wp-p03'];
  const pulumiCalls = () =>
    readFileSync(s.log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' | ')[0]!)
      .filter((l) => l.startsWith('pulumi '));

  it('workshop up (mock) creates and deploys one stack per participant, each in its own lab directory', () => {
    const r = labforge(['workshop', 'up', 'beginner', '--participants', '3', '--target', 'pulumi', '--name', 'wp', '--concurrency', '2'], {
      env: s.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3/3 participant labs up');
    for (const lab of labs) {
      expect(pulumiCalls()).toContain(`pulumi stack select --create ${lab} --non-interactive`);
      expect(pulumiCalls()).toContain(`pulumi up --yes --skip-preview --non-interactive --stack ${lab}`);
      const state = JSON.parse(readFileSync(join(s.home, lab, 'state.json'), 'utf8')) as Record<string, unknown>;
      expect(state).toMatchObject({ target: 'pulumi', name: lab, phase: 'up', backend: `file://${join(s.home, lab, 'backend')}` });
      const deployment = JSON.parse(readFileSync(join(s.home, lab, 'pulumi', 'deployment.json'), 'utf8')) as { name: string };
      expect(deployment.name).toBe(lab);
    }
  });

  it('workshop status (mock) lists the 3 stacks as up', () => {
    const r = labforge(['workshop', 'status', 'wp', '--json'], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { participants: { participant: { lab: string }; state: string }[] }).participants;
    expect(rows.map((x) => [x.participant.lab, x.state])).toEqual(labs.map((l) => [l, 'up']));
  });

  it('workshop sheet (mock) reads each stack: outputs as connection info, the decrypted secret, mode 0600', () => {
    const file = join(parent, 'wp.csv');
    const r = labforge(['workshop', 'sheet', 'wp', '--format', 'csv', '--out', file], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [header, ...rows] = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expect(header!.slice(0, 2)).toEqual(['participant', 'lab']);
    expect(header).toContain('server_public_ip');
    expect(header).toContain('postgres_password');
    expect(rows.map((row) => row[1])).toEqual(labs);
    expect(rows.map((row) => row[header!.indexOf('postgres_password')])).toEqual([
      'fake-db-password',
      'fake-db-password',
      'fake-db-password',
    ]);
  });

  it('workshop down (mock) destroys every stack, proves each empty, and removes the labs and the record', () => {
    const r = labforge(['workshop', 'down', 'wp'], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Teardown receipt for workshop 'wp' \([\d.]+s\): nothing left$/m);
    for (const lab of labs) {
      expect(pulumiCalls()).toContain(`pulumi destroy --yes --non-interactive --stack ${lab}`);
      expect(pulumiCalls()).toContain(`pulumi stack rm --yes --stack ${lab}`);
      expect(existsSync(join(s.home, lab))).toBe(false);
    }
    expect(existsSync(join(s.home, '.workshops', 'wp.json'))).toBe(false);
  });
});
