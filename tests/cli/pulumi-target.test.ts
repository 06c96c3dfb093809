// `labforge up/status/health/secrets/down --target pulumi` through the built CLI. The real pulumi
// CLI is not installed here (and AWS is out of reach), so after the "not found" case the tests put
// a FAKE pulumi (a shell script, named "mock" in each test) first on PATH: it logs each call and
// keeps a stand-in stack in the lab's file backend; npm install is the fake npm named by LABFORGE_NPM.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandbox as sandboxIn, type Sandbox } from './fake-pulumi.js';
import { BIN, labforge, type CliResult } from './run.js';

const parent = mkdtempSync(join(tmpdir(), 'lf-pulumi-target-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
const sandbox = (name: string, withPulumi: boolean) => sandboxIn(parent, name, withPulumi);

/** The subcommands the fake saw, in order: `pulumi stack select`, `npm install`, ... */
const calls = (s: Sandbox) => (existsSync(s.log) ? readFileSync(s.log, 'utf8').trim().split('\n') : []);
const commands = (s: Sandbox) => calls(s).map((l) => l.split(' | ')[0]!);
const mode = (path: string) => statSync(path).mode & 0o777;

/** The built CLI in its own process group, as a terminal runs it (Ctrl-C reaches the group). */
function startCli(args: string[], env: NodeJS.ProcessEnv): { pid: number; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { pid: child.pid!, done };
}

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('up --target pulumi without the pulumi CLI', () => {
  it('exits 1 naming pulumi and how to install it, and creates nothing', () => {
    const s = sandbox('no-cli', false);
    const r = labforge(['up', 'beginner', '--target', 'pulumi'], { env: s.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^labforge: pulumi CLI not found/);
    expect(r.stderr).toContain('curl -fsSL https://get.pulumi.com | sh');
    expect(r.stderr).toContain('labforge synth <level> --target pulumi');
    expect(r.stdout).toBe('');
    expect(existsSync(join(s.home, 'beginner'))).toBe(false);
  });

  it('flags of the other targets are refused with one line', () => {
    const s = sandbox('flags', false);
    for (const [flag, value, owner] of [
      ['--context', 'kind-kind', 'k8s'],
      ['--timeout', '5m', 'k8s'],
      ['--latency-ms', '5', 'local'],
    ] as const) {
      const r = labforge(['up', 'expert', '--target', 'pulumi', flag, value], { env: s.env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`labforge: ${flag} applies to --target ${owner} only`);
    }
    const local = labforge(['up', 'beginner', '--allow-cidr', '203.0.113.0/24'], { env: s.env });
    expect([local.code, local.stderr.trim()]).toEqual([2, 'labforge: --allow-cidr applies to --target aws or pulumi only']);
    const badRegion = labforge(['up', 'expert', '--target', 'pulumi', '--regions', 'us-east-1,mars-1'], { env: s.env });
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr).toContain("'mars-1'");
    expect(existsSync(join(s.home, 'expert'))).toBe(false);
  });
});

describe('up --target pulumi takes the cloud choices synth takes (fake pulumi CLI, mock)', () => {
  it('--regions, --allow-cidr, --owner and --ttl reach the deployment the program reads', () => {
    const s = sandbox('choices', true);
    const r = labforge(
      [
        'up',
        'expert',
        '--target',
        'pulumi',
        '--name',
        'ws1',
        '--regions',
        'us-east-1,eu-central-1',
        '--allow-cidr',
        '203.0.113.0/24',
        '--owner',
        'ada',
        '--ttl',
        '2h',
      ],
      { env: s.env },
    );
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(readFileSync(join(s.home, 'ws1', 'pulumi', 'deployment.json'), 'utf8')) as Record<string, unknown>;
    expect(d).toMatchObject({ name: 'ws1', regions: ['us-east-1', 'eu-central-1'], allowCidr: '203.0.113.0/24', owner: 'ada' });
    const hoursLeft = (Date.parse(String(d.expiresAt)) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(1.9);
    expect(hoursLeft).toBeLessThanOrEqual(2);
    expect(labforge(['down', 'ws1'], { env: s.env }).code).toBe(0);
    expect(existsSync(join(s.home, 'ws1'))).toBe(false);
  });
});

describe('up and down --target pulumi with a fake pulumi CLI (mock)', () => {
  const s = sandbox('fake', true);
  const lab = join(s.home, 'beginner');
  let up: CliResult;

  it('up (mock): installs, selects the stack, runs up, reads the outputs, in that order', () => {
    up = labforge(['up', 'beginner', '--target', 'pulumi'], { env: s.env });
    expect(up.code, up.stderr).toBe(0);
    expect(commands(s)).toEqual([
      'npm install --no-audit --no-fund',
      'pulumi stack select --create beginner --non-interactive',
      'pulumi up --yes --skip-preview --non-interactive --stack beginner',
      'pulumi stack output --json --stack beginner',
    ]);
    expect(calls(s)[0]).toContain('cwd=beginner/pulumi');
    // Every pulumi call: the lab's own file backend and a passphrase (its value is never logged).
    for (const line of calls(s).slice(1)) expect(line).toContain(`backend=file://${join(lab, 'backend')} | passphrase=set`);
  });

  it('up (mock) prints the non-secret outputs, and only names the secret one', () => {
    expect(up.stdout).toMatch(/^server_public_ip\s+203\.0\.113\.10$/m);
    expect(up.stdout).toMatch(/^postgres_password\s+\(secret: `labforge secrets beginner` prints it\)$/m);
    expect(up.stdout).not.toContain('[secret]');
  });

  it('up (mock) writes the project, state.json and the passphrase, both 0600; the passphrase is never printed', () => {
    expect(existsSync(join(lab, 'pulumi', 'Pulumi.yaml'))).toBe(true);
    expect(existsSync(join(lab, 'pulumi', 'labforge', 'labforge.mjs'))).toBe(true);
    const state = JSON.parse(readFileSync(join(lab, 'state.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      target: 'pulumi',
      name: 'beginner',
      level: 'beginner',
      stack: 'beginner',
      phase: 'up',
      backend: `file://${join(lab, 'backend')}`,
    });
    expect(mode(join(lab, 'state.json'))).toBe(0o600);
    expect(mode(join(lab, 'passphrase'))).toBe(0o600);
    const passphrase = readFileSync(join(lab, 'passphrase'), 'utf8').trim();
    expect(passphrase.length).toBeGreaterThanOrEqual(32);
    expect(up.stdout + up.stderr + readFileSync(s.log, 'utf8')).not.toContain(passphrase);
  });

  it('status, health, secrets and chaos (mock) know the lab is a pulumi lab', () => {
    const status = labforge(['status', '--json'], { env: s.env });
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ name: 'beginner', target: 'pulumi', stack: 'beginner', state: 'up' }),
    ]);
    const health = labforge(['health', 'beginner'], { env: s.env });
    expect(health.code).toBe(1);
    expect(health.stderr).toContain('not available for a lab on AWS (target pulumi)');
    const secrets = labforge(['secrets', 'beginner', '--json'], { env: s.env });
    expect(secrets.code, secrets.stderr).toBe(0);
    expect(JSON.parse(secrets.stdout)).toEqual({ lab: 'beginner', target: 'pulumi', outputs: { postgres_password: 'fake-db-password' } });
    const chaos = labforge(['chaos', 'beginner', 'heal'], { env: s.env });
    expect(chaos.code).toBe(2);
    expect(chaos.stderr.trim()).toBe("labforge: chaos drills local labs only; 'beginner' is a pulumi lab");
  });

  it('down (mock): destroys, proves the stack empty, removes it and the lab directory', () => {
    const before = commands(s).length;
    const passphrase = readFileSync(join(lab, 'passphrase'), 'utf8').trim();
    const down = labforge(['down', 'beginner'], { env: s.env });
    expect(down.code, down.stderr).toBe(0);
    expect(commands(s).slice(before)).toEqual([
      'pulumi stack ls --json',
      'pulumi destroy --yes --non-interactive --stack beginner',
      'pulumi stack export --stack beginner',
      'pulumi stack rm --yes --stack beginner',
    ]);
    expect(down.stdout).toMatch(/^Teardown receipt for lab 'beginner' \(pulumi stack beginner, [\d.]+s\): nothing left$/m);
    expect(down.stdout).toContain('none left after destroy (pulumi stack export)');
    expect(down.stdout + down.stderr).not.toContain(passphrase);
    expect(existsSync(lab)).toBe(false);
  });
});

describe('down --target pulumi proves what is left (fake pulumi CLI, mock)', () => {
  it('a resource left after destroy (mock): exit 1, the receipt names it, the stack and the lab are kept', () => {
    const s = sandbox('leaves', true);
    expect(labforge(['up', 'beginner', '--target', 'pulumi'], { env: s.env }).code).toBe(0);
    const down = labforge(['down', 'beginner'], { env: { ...s.env, FAKE_DESTROY_LEAVES: '1' } });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^Teardown receipt for lab 'beginner' .*: SOMETHING IS LEFT$/m);
    expect(down.stdout).toContain('LEFT: urn:pulumi:beginner::labforge-beginner::aws:ec2/vpc:Vpc::vpc');
    expect(commands(s)).not.toContain('pulumi stack rm --yes --stack beginner');
    expect(existsSync(join(s.home, 'beginner', 'state.json'))).toBe(true);
    // Once destroy removes it, the same down finishes the job.
    const again = labforge(['down', 'beginner'], { env: s.env });
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(s.home, 'beginner'))).toBe(false);
  });
});

describe('an interrupted up --target pulumi is still removable (fake pulumi CLI, mock)', () => {
  it('Ctrl-C during pulumi up (mock): exit 130, then down removes the stack and the lab', async () => {
    const s = sandbox('ctrl-c', true);
    const run = startCli(['up', 'beginner', '--target', 'pulumi', '--name', 'cut'], { ...s.env, FAKE_PULUMI_HANG: '1' });
    await waitFor('the fake pulumi up', () => existsSync(s.pidFile) && readFileSync(s.pidFile, 'utf8').includes(' '));
    process.kill(-run.pid, 'SIGINT'); // the whole process group, as a terminal's Ctrl-C
    const up = await run.done;
    expect(up.code).toBe(130);
    expect(up.stderr).toContain('`labforge down cut` removes what was created');
    expect(JSON.parse(readFileSync(join(s.home, 'cut', 'state.json'), 'utf8'))).toMatchObject({ target: 'pulumi', phase: 'interrupted' });
    expect(labforge(['status', 'cut'], { env: s.env }).stdout).toContain('up interrupted: `labforge down cut` removes it');

    const down = labforge(['down', 'cut'], { env: s.env });
    expect(down.code, down.stderr).toBe(0);
    expect(commands(s).slice(-3)).toEqual([
      'pulumi destroy --yes --non-interactive --stack cut',
      'pulumi stack export --stack cut',
      'pulumi stack rm --yes --stack cut',
    ]);
    expect(existsSync(join(s.home, 'cut'))).toBe(false);
  });

  it('the fake pulumi killed during up (mock): up exits 1, down still removes everything', async () => {
    const s = sandbox('killed', true);
    const run = startCli(['up', 'beginner', '--target', 'pulumi', '--name', 'gone'], { ...s.env, FAKE_PULUMI_HANG: '1' });
    await waitFor('the fake pulumi up', () => existsSync(s.pidFile) && readFileSync(s.pidFile, 'utf8').trim().includes(' '));
    const [pulumi, sleep] = readFileSync(s.pidFile, 'utf8').trim().split(' ').map(Number);
    process.kill(pulumi!, 'SIGKILL');
    process.kill(sleep!, 'SIGKILL');
    const up = await run.done;
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('labforge: pulumi up failed (SIGKILL)');
    expect(JSON.parse(readFileSync(join(s.home, 'gone', 'state.json'), 'utf8'))).toMatchObject({ phase: 'failed' });

    const down = labforge(['down', 'gone'], { env: s.env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('nothing left');
    expect(existsSync(join(s.home, 'gone'))).toBe(false);
  });

  it('down (mock) of an up stopped before the stack existed destroys nothing and removes the lab', () => {
    const s = sandbox('no-stack', true);
    // A stand-in npm that fails: up stops before any stack command.
    writeFileSync(join(s.home, '..', 'bin', 'npm'), '#!/bin/bash\necho "npm $*" >> "$FAKE_LOG"; exit 7\n');
    chmodSync(join(s.home, '..', 'bin', 'npm'), 0o755);
    const up = labforge(['up', 'beginner', '--target', 'pulumi'], { env: s.env });
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('install failed');
    const down = labforge(['down', 'beginner'], { env: s.env });
    expect(down.code, down.stderr).toBe(0);
    expect(commands(s)).toEqual(['npm install --no-audit --no-fund', 'pulumi stack ls --json']);
    expect(down.stdout).toContain('never created (up stopped before it): nothing to destroy');
    expect(existsSync(join(s.home, 'beginner'))).toBe(false);
  });
});
