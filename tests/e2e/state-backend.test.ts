// `--backend s3://bucket/prefix` for aws labs: the parser's one-line refusals, the backend and
// remote-state blocks the real cdktf synth writes, the test-only emulator override on top of
// them, and labforge reading, counting and deleting state objects in a real S3 API (moto in
// server mode, from `scripts/setup.sh --test`). Applying through tofu with this backend is in
// tests/emulator (it needs the provider build).
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthAws } from '../../constructs/aws/synth.js';
import { parseBackend, stateKey } from '../../constructs/model/backend.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { ExternalError, UsageError } from '../../constructs/model/errors.js';
import { emulatorSettings, OVERRIDE_FILE, writeEmulatorOverride } from '../../constructs/terraform/emulator.js';
import { LabStates } from '../../constructs/terraform/stack-state.js';
import { AWS_STATE_VERSION, writeAwsState, type AwsLabState } from '../../constructs/terraform/state.js';
import { statusAwsLab } from '../../constructs/terraform/target.js';
import { getLab } from '../../labs/index.js';
import { credentials, startMoto, type Moto } from '../emulator/harness.js';
import { labforge } from '../cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const json = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

/** A directory holding a stand-in tofu that only logs its calls: a test that must never run tofu checks the log is absent. */
function standInTofu(name: string): { root: string; tofu: string; log: string } {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const log = join(root, 'tofu.log');
  const tofu = join(root, 'tofu');
  writeFileSync(tofu, `#!/bin/sh\necho "tofu $*" >> '${log}'\nexit 0\n`, { mode: 0o755 });
  return { root, tofu, log };
}

describe('parseBackend', () => {
  it('local, a bucket, a bucket with a prefix and a region', () => {
    expect(parseBackend('local')).toBeUndefined();
    expect(parseBackend('s3://lab-state')).toEqual({ kind: 's3', bucket: 'lab-state', prefix: '' });
    expect(parseBackend('s3://lab-state/team/ws-2026/')).toEqual({ kind: 's3', bucket: 'lab-state', prefix: 'team/ws-2026' });
    expect(parseBackend('s3://lab.state/x?region=eu-west-1')).toEqual({
      kind: 's3',
      bucket: 'lab.state',
      prefix: 'x',
      region: 'eu-west-1',
    });
    expect(stateKey(parseBackend('s3://b-1/team')!, 'adv', 'adv-k8s')).toBe('team/adv/adv-k8s.tfstate');
    expect(stateKey(parseBackend('s3://b-1')!, 'adv', 'adv')).toBe('adv/adv.tfstate');
  });

  it('refuses with one line naming the bad value and the valid forms', () => {
    const cases: [string, string][] = [
      ['gs://bucket', "bad --backend 'gs://bucket' (valid: 'local' or 's3://<bucket>[/<prefix>][?region=<region>]')"],
      ['s3://', "bad --backend 's3://' (valid: 'local' or 's3://<bucket>[/<prefix>][?region=<region>]')"],
      [
        's3://Lab_State',
        "bad --backend bucket 'Lab_State' (valid: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-labforge-state)",
      ],
      ['s3://ab', "bad --backend bucket 'ab' (valid: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-labforge-state)"],
      [
        's3://lab-state/a//b',
        "bad --backend prefix 'a//b' (valid: key segments of letters, digits and !_.*'()- separated by single slashes)",
      ],
      [
        's3://lab-state/a b',
        "bad --backend prefix 'a b' (valid: key segments of letters, digits and !_.*'()- separated by single slashes)",
      ],
      ['s3://lab-state?region=mars-1', expect.stringMatching(/^bad --backend region 'mars-1' \(valid: us-east-1, us-east-2, .*\)$/)],
      ['s3://lab-state?acl=public', "bad --backend option 'acl' in 's3://lab-state?acl=public' (valid: region)"],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        parseBackend(value);
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(UsageError);
      expect((error as Error).message, value).toEqual(message);
    }
  });
});

describe('the synthesized stacks of a lab with an S3 backend (real cdktf synth)', () => {
  const advanced = (backend?: string) => resolveDeployment(getLab('advanced'), { name: 'adv', backend });

  it('each stack keeps its state in its own encrypted, lock-file-locked object; the -k8s stack reads the cluster stack from S3', () => {
    const out = join(dir, 'synth-s3');
    const stacks = synthAws([advanced('s3://lab-state/team?region=eu-west-1')], out);
    expect(stacks.map((s) => s.stack)).toEqual(['adv', 'adv-k8s']);
    const [cluster, objects] = stacks.map((s) => json(s.file));
    expect(cluster.terraform.backend).toEqual({
      s3: { bucket: 'lab-state', key: 'team/adv/adv.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
    expect(objects.terraform.backend).toEqual({
      s3: { bucket: 'lab-state', key: 'team/adv/adv-k8s.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
    expect(objects.data.terraform_remote_state.cluster).toEqual({
      backend: 's3',
      config: { bucket: 'lab-state', key: 'team/adv/adv.tfstate', region: 'eu-west-1' },
    });
  });

  it('without --backend (or with local) the state stays beside each stack, as before', () => {
    for (const backend of [undefined, 'local']) {
      const [cluster, objects] = synthAws([advanced(backend)], join(dir, `synth-${backend ?? 'default'}`)).map((s) => json(s.file));
      expect(cluster.terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });
      expect(objects.data.terraform_remote_state.cluster).toEqual({ backend: 'local', config: { path: '../adv/terraform.tfstate' } });
    }
  });

  it('the test-only emulator override keeps bucket and key, and adds the emulator endpoint, path style and fake keys to both', () => {
    const [, objects] = synthAws([advanced('s3://lab-state/team')], join(dir, 'synth-emulated'));
    const stackDir = join(objects!.file, '..');
    writeEmulatorOverride(stackDir, emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: 'http://localhost:5000' }));
    const o = json(join(stackDir, OVERRIDE_FILE));
    const emulated = {
      endpoints: { s3: 'http://localhost:5000', sts: 'http://localhost:5000', iam: 'http://localhost:5000' },
      use_path_style: true,
      access_key: 'testing',
      skip_credentials_validation: true,
    };
    expect(o.terraform.backend.s3).toMatchObject({
      bucket: 'lab-state',
      key: 'team/adv/adv-k8s.tfstate',
      region: 'us-east-1',
      use_lockfile: true,
      ...emulated,
    });
    expect(o.data.terraform_remote_state.cluster.config).toMatchObject({ bucket: 'lab-state', key: 'team/adv/adv.tfstate', ...emulated });
    // Local labs' overrides carry neither.
    const [, local] = synthAws([advanced()], join(dir, 'synth-emulated-local'));
    writeEmulatorOverride(join(local!.file, '..'), emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: 'http://localhost:5000' }));
    const l = json(join(local!.file, '..', OVERRIDE_FILE));
    expect([l.terraform.backend, l.data]).toEqual([undefined, undefined]);
  });
});

describe('state objects in a real S3 API (moto server)', () => {
  let moto: Moto;
  let s3: S3Client;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await startMoto();
    // LabStates builds its SDK clients from the environment, as the CLI does.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    s3 = new S3Client({ region: 'eu-west-1', endpoint: moto.endpoint, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'lab-state', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  });
  afterAll(async () => {
    process.env = saved;
    s3?.destroy();
    await moto?.stop();
  });

  const resource = (type: string, name: string) => ({ mode: 'managed', type, name, instances: [{ attributes: {} }] });
  const put = (key: string, body: unknown) =>
    s3.send(new PutObjectCommand({ Bucket: 'lab-state', Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body) }));
  const exists = async (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: 'lab-state', Key: key })).then(
      () => true,
      () => false,
    );
  const backend = parseBackend('s3://lab-state/team?region=eu-west-1')!;

  function record(home: string, name: string, fields: Partial<AwsLabState> = {}): AwsLabState {
    const state: AwsLabState = {
      version: AWS_STATE_VERSION,
      name,
      level: 'advanced',
      target: 'aws',
      createdAt: '2026-12-01T09:00:00.000Z',
      updatedAt: '2026-12-01T09:00:00.000Z',
      appliedAt: '2026-12-01T10:00:00.000Z',
      expiresAt: '2026-12-01T13:00:00.000Z',
      owner: 'ada',
      regions: ['us-east-1'],
      hourlyUsd: 1,
      binary: '/usr/bin/tofu',
      stacks: [name, `${name}-k8s`],
      backend,
      phase: 'up',
      ...fields,
    };
    mkdirSync(join(home, name), { recursive: true });
    writeAwsState(home, state);
    return state;
  }

  it('status counts the resources of each stack object in the bucket (the bucket in its own region); outputs merge, secrets named', async () => {
    const home = join(dir, 'home-status');
    const state = record(home, 'adv');
    await put('team/adv/adv.tfstate', {
      version: 4,
      resources: [resource('aws_vpc', 'vpc'), resource('aws_eks_cluster', 'use1')],
      outputs: { api_url: { value: 'https://api', type: 'string' }, db_password: { value: 's3cret', type: 'string', sensitive: true } },
    });
    await put('team/adv/adv-k8s.tfstate', { version: 4, resources: [resource('kubernetes_namespace_v1', 'lab')], outputs: {} });
    const status = await statusAwsLab(home, 'adv', new Date('2026-12-01T12:00:00.000Z'));
    expect(status).toMatchObject({ resources: 3, state: 'up', hoursUp: 2, costSoFarUsd: 2, backend: 's3://lab-state/team/adv/' });
    const states = new LabStates(home, state);
    expect(await states.outputs()).toEqual({ values: { api_url: 'https://api', db_password: 's3cret' }, secret: ['db_password'] });
    // No state file was written locally: the bucket is the only copy.
    expect(existsSync(join(home, 'adv', 'tf'))).toBe(false);
    states.close();
  });

  it('a stack without an object yet holds nothing; a missing bucket is an error, never "nothing left", and status says it', async () => {
    const home = join(dir, 'home-missing');
    const fresh = new LabStates(home, record(home, 'none'));
    expect(await fresh.addresses('none')).toEqual([]);
    fresh.close();
    const gone = new LabStates(home, record(home, 'gone', { backend: { ...backend, bucket: 'no-such-state-bucket' } }));
    const error = await gone.addresses('gone').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as Error).message).toMatch(
      /^cannot read the Terraform state of stack gone from s3:\/\/no-such-state-bucket\/team\/gone\/gone\.tfstate: NoSuchBucket/,
    );
    gone.close();
    // status still reports the lab (and the others): resources unknown, the reason in its state.
    const status = await statusAwsLab(home, 'gone');
    expect(status.resources).toBeNull();
    expect(status.state).toMatch(/^up \(cannot read the Terraform state of stack gone from s3:\/\/no-such-state-bucket\/.*NoSuchBucket/);
  });

  it('removeRemote deletes the state objects and lock files of every stack, and nothing else in the bucket', async () => {
    const home = join(dir, 'home-remove');
    const states = new LabStates(home, record(home, 'rm'));
    await put('team/rm/rm.tfstate', { version: 4, resources: [] });
    await put('team/rm/rm-k8s.tfstate', { version: 4, resources: [] });
    await put('team/rm/rm.tfstate.tflock', '{"ID":"x"}');
    await put('team/other/other.tfstate', { version: 4, resources: [] });
    expect(await states.removeRemote()).toEqual([]);
    expect(
      await Promise.all(
        ['team/rm/rm.tfstate', 'team/rm/rm-k8s.tfstate', 'team/rm/rm.tfstate.tflock', 'team/other/other.tfstate'].map(exists),
      ),
    ).toEqual([false, false, false, true]);
    states.close();
  });

  it('down of a lab whose stack objects are empty (destroyed before): the sweep finds nothing, the objects and the directory go, the receipt says so (no tofu needed)', async () => {
    const home = join(dir, 'home-down');
    record(home, 'dn');
    await put('team/dn/dn.tfstate', { version: 4, resources: [] });
    await put('team/dn/dn-k8s.tfstate', { version: 4, resources: [] });
    const env = {
      LABFORGE_HOME: home,
      LABFORGE_TF_BIN: '/nonexistent/tofu',
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const r = labforge(['down', 'dn'], { env });
    expect(r.code, r.stderr).toBe(0);
    const receipt = r.stdout.trimEnd().split('\n');
    expect(receipt[0]).toMatch(/^Teardown receipt for lab 'dn' \(aws, [\d.]+s\): nothing left$/);
    expect(receipt).toContain('  state     s3://lab-state/team/dn/ objects deleted');
    expect(await Promise.all(['team/dn/dn.tfstate', 'team/dn/dn-k8s.tfstate'].map(exists))).toEqual([false, false]);
    expect(existsSync(join(home, 'dn'))).toBe(false);
  });

  it('up --backend naming a bucket that does not exist: exit 1, one line saying so and how to create it, nothing created (stand-in tofu never run)', () => {
    const { root, tofu, log } = standInTofu('cli-missing');
    const env = {
      LABFORGE_HOME: join(root, 'home'),
      LABFORGE_TF_BIN: tofu,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_PROFILE: '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const r = labforge(['up', 'beginner', '--target', 'aws', '--yes', '--backend', 's3://no-such-state-bucket/labs'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      "labforge: state bucket 'no-such-state-bucket' (--backend) does not exist",
      "  create it first (`aws s3 mb s3://no-such-state-bucket --region us-east-1`, versioning on is best), or leave out --backend to keep the state in the lab's directory; nothing was created",
    ]);
    expect(existsSync(log)).toBe(false);
    expect(existsSync(join(root, 'home'))).toBe(false);
  });

  it('workshop up --backend naming a bucket that does not exist: exit 1 once, before the envelope, no workshop record (stand-in tofu never run)', () => {
    const { root, tofu, log } = standInTofu('cli-workshop-missing');
    const env = {
      LABFORGE_HOME: join(root, 'home'),
      LABFORGE_TF_BIN: tofu,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const r = labforge(
      ['workshop', 'up', 'beginner', '--participants', '4', '--target', 'aws', '--yes', '--backend', 's3://no-such-state-bucket'],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')[0]).toBe("labforge: state bucket 'no-such-state-bucket' (--backend) does not exist");
    expect(r.stderr).not.toContain('lab(s) on AWS');
    expect(existsSync(log)).toBe(false);
    expect(existsSync(join(root, 'home'))).toBe(false);
  });

  it('up of an existing lab with another --backend: exit 2, one line naming where its state is, the record untouched (stand-in tofu never run)', () => {
    const { root, tofu, log } = standInTofu('cli-other');
    const home = join(root, 'home');
    record(home, 'kept', { level: 'beginner', stacks: ['kept'] });
    const before = readFileSync(join(home, 'kept', 'state.json'), 'utf8');
    const env = { LABFORGE_HOME: home, LABFORGE_TF_BIN: tofu, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    for (const other of ['local', 's3://lab-state/elsewhere?region=eu-west-1']) {
      const r = labforge(['up', 'beginner', '--target', 'aws', '--yes', '--name', 'kept', '--backend', other], { env });
      expect([r.code, r.stderr.trimEnd().split('\n')], other).toEqual([
        2,
        [
          "labforge: lab 'kept' keeps its Terraform state in s3://lab-state/team/kept/; --backend would start a second one: leave --backend out, or `labforge down kept` first",
        ],
      ]);
    }
    expect(readFileSync(join(home, 'kept', 'state.json'), 'utf8')).toBe(before);
    expect(existsSync(log)).toBe(false);
  });
});
