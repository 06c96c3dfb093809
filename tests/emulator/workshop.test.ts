// `labforge workshop up beginner --participants 2 --target aws`: one stack per participant, really
// applied by tofu against moto; then status, the handout sheet with each participant's own
// password (checked against the SSM parameter their VM reads), and `workshop down` with one
// combined receipt, after which the emulator holds nothing tagged with either lab.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as cliIn, json, type RunOptions } from '../e2e/helpers.js';
import { cliEnv, credentials, startMoto, taggedWith, toolchain, type Moto } from './harness.js';

const W = `w${Math.random().toString(36).slice(2, 6)}`;
const LABS = [`${W}-p01`, `${W}-p02`];
let moto: Moto;
let home: string;
let env: Record<string, string>;
const cli = (args: string[], o: Omit<RunOptions, 'home'> = {}) => cliIn(args, { timeoutMs: 900_000, env, ...o, home });

beforeAll(async () => {
  const tools = toolchain();
  moto = await startMoto();
  home = mkdtempSync(join(tmpdir(), 'lf-emulator-workshop-'));
  env = cliEnv(moto, tools, home);
});
afterAll(async () => {
  await moto?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe(`a workshop of 2 beginners on the aws target, applied by tofu against moto (${W})`, () => {
  it('workshop up without --yes and without a terminal is refused before anything is created', async () => {
    const r = await cli(['workshop', 'up', 'beginner', '--participants', '2', '--target', 'aws', '--name', W]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'labforge: `workshop up --target aws` asks before it creates cloud resources, and stdin is not a terminal: pass --yes to apply without asking',
    );
    expect(await taggedWith(moto, LABS[0]!, ['us-east-1'])).toEqual([]);
  });

  it('up --yes: the envelope first, then both participants applied, each with its own stack', async () => {
    const r = await cli([
      'workshop',
      'up',
      'beginner',
      '--participants',
      '2',
      '--target',
      'aws',
      '--name',
      W,
      '--yes',
      '--concurrency',
      '2',
    ]);
    expect(r.code, r.stdout + r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(
      /2 beginner lab\(s\) on AWS, one stack set each: \$0\.0\d+\/hour each, \$0\.\d+ for 2 participant\(s\) x 4 hour\(s\)/,
    );
    expect(r.stdout).toContain(`Workshop '${W}'`);
    expect(r.stdout).toContain('2/2 participant labs up');
    for (const lab of LABS) {
      expect(statSync(join(home, lab, 'tf/stacks', lab, 'terraform.tfstate')).mode & 0o777).toBe(0o600);
      expect(await taggedWith(moto, lab, ['us-east-1'])).toEqual(
        expect.arrayContaining([expect.stringContaining(':vpc/'), expect.stringContaining('instance i-')]),
      );
    }
  });

  it("status has a row per participant; the sheet holds each one's own password, the one their VM reads", async () => {
    const status = json(await cli(['workshop', 'status', W, '--json']));
    expect(status.participants.map((p: { participant: { lab: string }; state: string }) => [p.participant.lab, p.state])).toEqual(
      LABS.map((l) => [l, 'up']),
    );
    const out = join(home, 'sheet.csv');
    const sheet = await cli(['workshop', 'sheet', W, '--format', 'csv', '--out', out]);
    expect(sheet.code, sheet.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, 'utf8');
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    try {
      const passwords = [];
      for (const lab of LABS) {
        const p = (await ssm.send(new GetParameterCommand({ Name: `/labforge/${lab}/db/password`, WithDecryption: true }))).Parameter!
          .Value!;
        expect(text).toContain(p);
        passwords.push(p);
      }
      expect(passwords[0]).not.toBe(passwords[1]);
    } finally {
      ssm.destroy();
    }
  });

  it('workshop down removes both labs with one receipt; nothing tagged with either is left', async () => {
    const r = await cli(['workshop', 'down', W]);
    expect(r.code, r.stdout + r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Teardown receipt for workshop '${W}' \\([\\d.]+s\\): nothing left`));
    expect(r.stdout).toContain('2 lab(s) removed; workshop record removed');
    for (const lab of LABS) expect(await taggedWith(moto, lab, ['us-east-1'])).toEqual([]);
    expect((await cli(['list-labs', '--json'])).stdout).not.toContain(W);
  });
});
