// `labforge up/status/health/secrets/down --target aws` through the built CLI, with no real tofu
// and no AWS: PATH is an empty directory (the CLI runs via process.execPath), the stand-in tofu is
// a shell script that logs its calls, and every AWS call goes to a closed port on 127.0.0.1 (no
// credentials at all, or fake keys), so nothing can reach the internet. Each test's name says
// what stands in.
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsLabState } from '../../constructs/terraform/state.js';
import { labforge } from './run.js';

const parent = mkdtempSync(join(tmpdir(), 'lf-aws-target-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** A port nothing listens on: bound once, then closed. */
let closed = '';
beforeAll(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  closed = `http://127.0.0.1:${port}`;
});

interface Sandbox {
  readonly root: string;
  readonly home: string;
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Its own empty bin (the whole PATH), HOME, labforge home and AWS environment with no credentials. */
function sandbox(name: string): Sandbox {
  const root = join(parent, name);
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: bin,
    HOME: root,
    XDG_CACHE_HOME: '',
    TF_PLUGIN_CACHE_DIR: '',
    LABFORGE_HOME: join(root, 'home'),
    LABFORGE_TF_BIN: '',
    LABFORGE_CHECKIP_URL: '',
    LABFORGE_TEST_AWS_EMULATOR: '',
    LABFORGE_TEST_TF_EXCLUDE_TYPES: '',
    LABFORGE_TEST_KUBERNETES: '',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_DEFAULT_PROFILE: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
    AWS_CONFIG_FILE: join(root, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: closed,
    // The SDK warns (several lines on stderr) that it will need Node 22; these tests assert the
    // exact lines labforge prints, so the SDK's own notice is turned off.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return { root, home: join(root, 'home'), bin, env };
}

/** What a command left in the sandbox besides its bin: nothing, when nothing was created. */
const created = (s: Sandbox) => readdirSync(s.root).filter((e) => e !== 'bin');
const lines = (text: string) => text.trimEnd().split('\n');

describe('up --target aws refuses before anything is created', () => {
  it('stdin not a terminal and no --yes (no tofu on PATH): exit 2, one line naming --yes', () => {
    const s = sandbox('no-tty');
    const r = labforge(['up', 'beginner', '--target', 'aws'], { env: s.env });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      'labforge: `up --target aws` asks before it creates cloud resources, and stdin is not a terminal: pass --yes to apply without asking',
    ]);
    expect(r.stdout).toBe('');
    expect(existsSync(join(s.home, 'beginner'))).toBe(false);
    expect(created(s)).toEqual([]);
  });

  it('neither tofu nor terraform (empty PATH, no LABFORGE_TF_BIN): exit 1, what to install, nothing created', () => {
    const s = sandbox('no-tofu');
    const r = labforge(['up', 'beginner', '--target', 'aws', '--yes'], { env: s.env });
    expect(r.code).toBe(1);
    const [first, hint, ...rest] = lines(r.stderr);
    expect(first).toBe('labforge: neither tofu nor terraform is on PATH');
    expect(hint).toMatch(/^ {2}install OpenTofu .*LABFORGE_TF_BIN.*; nothing was created; /);
    expect(rest).toEqual([]);
    expect(created(s)).toEqual([]);
  });

  it('LABFORGE_TF_BIN naming no file (no tofu at all): exit 1, the message names the path', () => {
    const s = sandbox('bad-tf-bin');
    const r = labforge(['up', 'beginner', '--target', 'aws', '--yes'], { env: { ...s.env, LABFORGE_TF_BIN: '/nonexistent/tofu' } });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)[0]).toBe('labforge: LABFORGE_TF_BIN=/nonexistent/tofu is not an executable file or a command on PATH');
    expect(r.stderr).toContain('nothing was created');
    expect(created(s)).toEqual([]);
  });

  it('no AWS credentials (stand-in tofu that logs its calls; AWS at a closed port): exit 1, what to set, tofu never run', () => {
    const s = sandbox('no-credentials');
    const log = join(s.root, 'tofu.log');
    writeFileSync(join(s.bin, 'tofu'), `#!/bin/sh\necho "tofu $*" >> '${log}'\nexit 0\n`, { mode: 0o755 });
    const r = labforge(['up', 'beginner', '--target', 'aws', '--yes'], { env: { ...s.env, LABFORGE_TF_BIN: join(s.bin, 'tofu') } });
    expect(r.code).toBe(1);
    const [first, hint, ...rest] = lines(r.stderr);
    expect(first).toBe('labforge: no AWS credentials found');
    expect(hint).toMatch(/^ {2}set AWS_PROFILE .*; nothing was created$/);
    expect(rest).toEqual([]);
    expect(existsSync(log)).toBe(false);
    expect(created(s)).toEqual([]);
  });

  it('--allow-cidr auto with the echo service at a closed port (no tofu): exit 1, names the service', () => {
    const s = sandbox('checkip-down');
    const r = labforge(['up', 'beginner', '--target', 'aws', '--yes', '--allow-cidr', 'auto'], {
      env: { ...s.env, LABFORGE_CHECKIP_URL: `${closed}/` },
    });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)[0]).toMatch(new RegExp(`^labforge: --allow-cidr auto: cannot find your public address \\(${closed}/: .+\\)$`));
    expect(lines(r.stderr)[1]).toBe('  pass --allow-cidr <your-address>/32 instead; nothing was created');
    expect(created(s)).toEqual([]);
  });

  it('flags of the aws target elsewhere, and bad aws flags, are refused with one line (no tofu on PATH)', () => {
    const s = sandbox('flags');
    const cases: [string[], string][] = [
      [['up', 'beginner', '--yes'], 'labforge: --yes applies to --target aws only'],
      [['up', 'beginner', '--health-timeout', '90s'], 'labforge: --health-timeout applies to --target aws only'],
      [['up', 'beginner', '--target', 'pulumi', '--health-timeout', '5s'], 'labforge: --health-timeout applies to --target aws only'],
      [['up', 'beginner', '--target', 'k8s', '--yes'], 'labforge: --yes applies to --target aws only'],
      [
        ['up', 'beginner', '--target', 'aws', '--yes', '--health-timeout', '0s'],
        "labforge: bad --health-timeout '0s' (expected 1s to 60m, e.g. 90s or 5m)",
      ],
      [
        ['up', 'beginner', '--target', 'aws', '--yes', '--allow-cidr', '0.0.0.0/0'],
        "labforge: --allow-cidr '0.0.0.0/0' is too wide (prefix /0); labs never open to the world, use /8 or narrower",
      ],
      [['up', 'beginner', '--target', 'aws', '--yes', '--context', 'kind-kind'], 'labforge: --context applies to --target k8s only'],
      [['up', 'beginner', '--backend', 's3://lab-state'], 'labforge: --backend applies to --target aws only'],
      [['up', 'beginner', '--target', 'pulumi', '--backend', 's3://lab-state'], 'labforge: --backend applies to --target aws only'],
      [
        ['up', 'beginner', '--target', 'aws', '--yes', '--backend', 'lab-state'],
        "labforge: bad --backend 'lab-state' (valid: 'local' or 's3://<bucket>[/<prefix>][?region=<region>]')",
      ],
      [['synth', 'advanced', '--target', 'k8s', '--backend', 's3://lab-state'], 'labforge: --backend applies to --target aws only'],
      [
        ['synth', 'beginner', '--backend', 's3://Lab_State'],
        "labforge: bad --backend bucket 'Lab_State' (valid: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-labforge-state)",
      ],
      [
        ['workshop', 'up', 'beginner', '--participants', '2', '--backend', 's3://lab-state'],
        'labforge: --backend applies to --target aws only',
      ],
      [
        ['workshop', 'up', 'beginner', '--participants', '2', '--target', 'aws', '--yes', '--backend', 's3://lab-state?region=moon'],
        expect.stringMatching(/^labforge: bad --backend region 'moon' \(valid: us-east-1, .*\)$/),
      ],
    ];
    for (const [args, message] of cases) {
      const r = labforge(args, { env: s.env });
      expect([r.code, lines(r.stderr)], args.join(' ')).toEqual([2, [message]]);
    }
    expect(created(s)).toEqual([]);
  });
});

describe('an aws lab whose up stopped before apply (fabricated record, no tofu on PATH)', () => {
  /** The record `up` writes before anything runs, as an interrupted or crashed `up` leaves it. */
  function fabricate(s: Sandbox, name: string, fields: Partial<AwsLabState>): string {
    const dir = join(s.home, name);
    mkdirSync(dir, { recursive: true });
    const state: AwsLabState = {
      version: 1,
      name,
      level: 'beginner',
      target: 'aws',
      createdAt: '2026-12-01T09:00:00.000Z',
      updatedAt: '2026-12-01T09:00:00.000Z',
      expiresAt: '2099-01-01T00:00:00.000Z',
      owner: 'ada',
      regions: ['us-east-1'],
      hourlyUsd: 0.5,
      binary: '/nonexistent/tofu',
      stacks: [name],
      phase: 'interrupted',
      ...fields,
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state), { mode: 0o600 });
    return dir;
  }

  it('status --json: nothing created, nothing spent; health and secrets: exit 1, nothing to read yet', () => {
    const s = sandbox('interrupted-status');
    fabricate(s, 'x', {});
    const status = labforge(['status', '--json'], { env: s.env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({
        name: 'x',
        target: 'aws',
        resources: 0,
        costSoFarUsd: 0,
        state: 'up stopped before anything was created: `labforge down x` clears it',
      }),
    ]);
    for (const command of ['health', 'secrets']) {
      const r = labforge([command, 'x'], { env: s.env });
      expect([r.code, lines(r.stderr)], command).toEqual([
        1,
        ["labforge: lab 'x' holds no resources yet", '  run `labforge up beginner --target aws --name x`'],
      ]);
    }
  });

  it('down of an interrupted up (fake keys, AWS at a closed port): the tag sweep cannot run, so exit 1 and the lab is kept', () => {
    const s = sandbox('interrupted-down');
    const dir = fabricate(s, 'x', {});
    const r = labforge(['down', 'x'], { env: { ...s.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' } });
    expect(r.code).toBe(1);
    const receipt = lines(r.stdout);
    expect(receipt[0]).toMatch(/^Teardown receipt for lab 'x' \(aws, [\d.]+s\): SOMETHING IS LEFT$/);
    expect(receipt[1]).toBe('  stacks    none held resources (up stopped before apply): nothing to destroy');
    expect(receipt[2]).toMatch(new RegExp(`^ {2}sweep {5}NOT RUN: cannot reach ${closed}: .*ECONNREFUSED`));
    expect(receipt.slice(3)).toEqual([`  dir       ${dir} STILL THERE (kept: run down again)`]);
    const err = lines(r.stderr);
    expect(err.slice(0, 2)).toEqual(["removing lab 'x'", 'sweeping us-east-1 for resources tagged labforge:lab=x']);
    expect(err[2]).toMatch(
      /^labforge: lab 'x': the tag sweep could not run \(cannot reach .*\): run `labforge sweep --lab x --region us-east-1` to check$/,
    );
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toMatchObject({
      phase: 'interrupted',
      error: expect.stringMatching(/^down: the tag sweep could not run/),
    });
  });

  it('down of an up that died while planning (no AWS needed, no tofu on PATH): nothing to destroy, no sweep, the directory is removed', () => {
    const s = sandbox('planning-down');
    const dir = fabricate(s, 'p', { phase: 'planning' });
    const r = labforge(['down', 'p'], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^Teardown receipt for lab 'p' \(aws, [\d.]+s\): nothing left$/),
      '  stacks    none held resources (up stopped before apply): nothing to destroy',
      `  dir       ${dir} removed`,
    ]);
    expect(r.stderr).not.toContain('sweeping');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(s.home)).toBe(false);
  });
});

describe('workshop up --target aws checks once, before it asks or creates anything', () => {
  it('no tofu (empty PATH): exit 1, what to install, no workshop record, no lab', () => {
    const s = sandbox('workshop-no-tofu');
    const r = labforge(['workshop', 'up', 'beginner', '--participants', '3', '--target', 'aws', '--yes'], { env: s.env });
    expect(r.code).toBe(1);
    const [first, hint, ...rest] = lines(r.stderr);
    expect(first).toBe('labforge: neither tofu nor terraform is on PATH');
    expect(hint).toMatch(
      /^ {2}install OpenTofu .*; nothing was created; `labforge workshop synth <level> --target aws` writes the Terraform without it$/,
    );
    expect(rest).toEqual([]);
    expect(created(s)).toEqual([]);
  });

  it('no AWS credentials (stand-in tofu that logs its calls; AWS at a closed port): exit 1, what to set, tofu never run, nothing created', () => {
    const s = sandbox('workshop-no-credentials');
    const log = join(s.root, 'tofu.log');
    writeFileSync(join(s.bin, 'tofu'), `#!/bin/sh\necho "tofu $*" >> '${log}'\nexit 0\n`, { mode: 0o755 });
    const r = labforge(['workshop', 'up', 'beginner', '--participants', '3', '--target', 'aws', '--yes'], {
      env: { ...s.env, LABFORGE_TF_BIN: join(s.bin, 'tofu') },
    });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'labforge: no AWS credentials found',
      expect.stringMatching(/^ {2}set AWS_PROFILE .*; nothing was created$/),
    ]);
    expect(existsSync(log)).toBe(false);
    expect(created(s)).toEqual([]);
  });
});

describe('an aws workshop keeps the backend it was made with (fabricated workshop record, no tofu, no AWS)', () => {
  it('workshop up with another --backend: exit 2, one line naming where the state is, nothing started, the record untouched', () => {
    const s = sandbox('workshop-backend');
    const dir = join(s.home, '.workshops');
    mkdirSync(dir, { recursive: true });
    const record = {
      version: 1,
      name: 'ws',
      level: 'beginner',
      target: 'aws',
      participants: 1,
      createdAt: '2026-12-01T09:00:00.000Z',
      expiresAt: '2099-01-01T00:00:00.000Z',
      backend: 's3://lab-state/ws',
    };
    writeFileSync(join(dir, 'ws.json'), JSON.stringify(record), { mode: 0o600 });
    const r = labforge(
      ['workshop', 'up', 'beginner', '--participants', '1', '--target', 'aws', '--name', 'ws', '--yes', '--backend', 's3://other-state'],
      { env: s.env },
    );
    expect(r.code).toBe(2);
    expect(lines(r.stderr).at(-1)).toBe(
      "labforge: workshop 'ws' keeps its Terraform state in s3://lab-state/ws; leave --backend out, or run `labforge workshop down ws` first",
    );
    expect(r.stderr).not.toContain('ws-p01');
    expect(JSON.parse(readFileSync(join(dir, 'ws.json'), 'utf8'))).toEqual(record);
    expect(readdirSync(s.home)).toEqual(['.workshops']);
  });
});
