// `labforge up beginner --target aws` really applied by OpenTofu with the real AWS provider,
// against moto standing in for AWS (no AWS account exists here); then `down` really destroys it,
// and the emulator, asked independently of labforge, holds nothing tagged with the lab.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, cli as cliIn, json, type CliResult, type RunOptions } from '../e2e/helpers.js';
import { cliEnv, startMoto, taggedWith, toolchain, type Moto, type Toolchain } from './harness.js';

const RUN = Math.random().toString(36).slice(2, 7);
const LAB = `b-${RUN}`;
const mode = (path: string) => statSync(path).mode & 0o777;
const cli = (args: string[], o: Omit<RunOptions, 'home'>) => cliIn(args, { ...o, home });

/** The built CLI in its own process group, as a terminal runs it: Ctrl-C reaches tofu too. */
function startInGroup(args: string[]): { pid: number; stderr: () => string; done: Promise<CliResult> } {
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
  return { pid: child.pid!, stderr: () => stderr, done };
}

let moto: Moto;
let tools: Toolchain;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  tools = toolchain();
  moto = await startMoto();
  home = mkdtempSync(join(tmpdir(), 'lf-emulator-beginner-'));
  env = cliEnv(moto, tools, home);
});
afterAll(async () => {
  await moto?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe(`beginner lab on the aws target, applied by tofu against moto (${RUN})`, () => {
  it('up --yes applies the stack: state and outputs present, 0600, Postgres reported private without --allow-cidr', async () => {
    const r = await cli(['up', 'beginner', '--target', 'aws', '--name', LAB, '--yes', '--json'], { env, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = json(r);
    expect(result.outcome).toBe('up');
    expect(result.account).toBe('123456789012');
    expect(result.stacks).toEqual([LAB]);
    expect(result.outputs.server_public_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(result.outputs.postgres_url).toBe(`postgres://learner@${result.outputs.server_public_ip}:5432/lab`);
    // The password is an output, never printed by up.
    expect(result.secretOutputs).toEqual(['postgres_password']);
    expect(r.stdout).not.toContain('"postgres_password":');
    expect(result.health).toEqual([
      expect.objectContaining({ reach: 'private', ok: false, detail: expect.stringContaining('--allow-cidr') }),
    ]);
    // The plan summary came before the apply, with the estimated cost.
    expect(r.stderr).toMatch(/15 to add, 0 to change, 0 to destroy/);
    expect(r.stderr).toMatch(/estimated cost: \$0\.0\d+\/hour/);
    expect(r.stderr).toMatch(/\[15\/15\] created aws_/);

    const tfstate = join(home, LAB, 'tf/stacks', LAB, 'terraform.tfstate');
    expect(mode(tfstate)).toBe(0o600);
    expect(mode(join(home, LAB))).toBe(0o700);
    const state = JSON.parse(readFileSync(tfstate, 'utf8')) as { resources: { mode: string; type: string }[] };
    expect(state.resources.filter((x) => x.mode === 'managed').map((x) => x.type)).toEqual(
      expect.arrayContaining(['aws_instance', 'aws_vpc', 'aws_security_group', 'aws_ssm_parameter', 'random_password']),
    );
    expect(await taggedWith(moto, LAB, ['us-east-1'])).toEqual(
      expect.arrayContaining([
        expect.stringContaining(':vpc/'),
        expect.stringContaining(':subnet/'),
        expect.stringContaining('instance i-'),
      ]),
    );
  });

  it('status shows the lab with its resources, age, expiry and cost so far; secrets prints the generated password', async () => {
    const status = json(await cli(['status', LAB, '--json'], { env }));
    expect(status).toMatchObject({ name: LAB, target: 'aws', state: 'up', resources: 15, regions: ['us-east-1'] });
    expect(status.hourlyUsd).toBeGreaterThan(0.01);
    expect(Date.parse(status.expiresAt) - Date.now()).toBeGreaterThan(3.9 * 3_600_000);
    const table = await cli(['status'], { env });
    expect(table.stdout).toMatch(
      new RegExp(`${LAB}\\s+beginner\\s+aws\\s+us-east-1\\s+15\\s+\\d+m\\s+in 4\\.0h\\s+\\$0\\.000 \\(\\$0\\.0\\d+/h\\)\\s+up`),
    );
    const secrets = json(await cli(['secrets', LAB, '--json'], { env }));
    expect(secrets.outputs.postgres_password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // The parameter the VM reads at boot holds the same password (moto's SSM, read with the SDK).
    const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
    const ssm = new SSMClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const p = await ssm.send(new GetParameterCommand({ Name: `/labforge/${LAB}/db/password`, WithDecryption: true }));
    ssm.destroy();
    expect(p.Parameter?.Value).toBe(secrets.outputs.postgres_password);
  });

  it('health of the lab: nothing reachable without --allow-cidr, so exit 1 and nothing reported passed', async () => {
    const r = await cli(['health', LAB], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/db \(postgres on VM server [\d.]+\)\s+PRIVATE/);
    expect(r.stdout).not.toMatch(/\bok\b/);
    expect(r.stderr).toContain('nothing of it is reachable from here');
  });

  it('down destroys every resource, the tag sweep finds none left, the receipt says so, the emulator agrees', async () => {
    const r = await cli(['down', LAB], { env, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Teardown receipt for lab '${LAB}' (aws,`);
    expect(r.stdout).toContain('nothing left');
    expect(r.stdout).toMatch(new RegExp(`stack\\s+${LAB}\\s+15 destroyed, state empty`));
    expect(r.stdout).toMatch(/sweep\s+us-east-1\s+none tagged with the lab left/);
    expect(r.stdout).toContain('removed');
    expect(await taggedWith(moto, LAB, ['us-east-1'])).toEqual([]);
    expect((await cli(['status', '--json'], { env })).stdout.trim()).toBe('[]');
  });

  it('an up interrupted by Ctrl-C mid-apply is still fully removed by down', async () => {
    const name = `${LAB}-int`;
    const up = startInGroup(['up', 'beginner', '--target', 'aws', '--name', name, '--yes']);
    const deadline = Date.now() + 300_000;
    while (!/\] created aws_/.test(up.stderr()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(up.stderr()).toMatch(/\] created aws_/);
    process.kill(-up.pid, 'SIGINT');
    const r = await up.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`labforge down ${name}`);
    expect((await taggedWith(moto, name, ['us-east-1'])).length).toBeGreaterThan(0);
    const status = json(await cli(['status', name, '--json'], { env }));
    expect(status.state).toMatch(/^interrupted/);

    const down = await cli(['down', name], { env, timeoutMs: 600_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('nothing left');
    expect(await taggedWith(moto, name, ['us-east-1'])).toEqual([]);
  });
});
