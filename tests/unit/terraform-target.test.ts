// The aws target's pieces that need neither tofu nor AWS: the plan summary of the confirmation
// prompt, the test-only emulator override, `--allow-cidr auto`, and what `status` reads from a
// lab's record and its stacks' Terraform state.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExternalError, UsageError } from '../../constructs/model/errors.js';
import { resolveAllowCidr } from '../../constructs/terraform/address.js';
import { emulatorSettings, excludeArgs, OVERRIDE_FILE, writeEmulatorOverride } from '../../constructs/terraform/emulator.js';
import { describeCounts, summarizePlan, type PlanJson } from '../../constructs/terraform/plan.js';
import { LabStates, UNREADABLE_STATE, addressesIn } from '../../constructs/terraform/stack-state.js';
import { AWS_STATE_VERSION, awsLabLayout, writeAwsState, type AwsLabState } from '../../constructs/terraform/state.js';
import { statusAwsLab } from '../../constructs/terraform/target.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-terraform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
/** A directory under the test's temp dir holding `files` (objects written as JSON). */
function folder(name: string, files: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  for (const [file, content] of Object.entries(files))
    writeFileSync(join(path, file), typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('summarizePlan and describeCounts (a `tofu show -json` plan)', () => {
  const change = (address: string, actions: string[], mode = 'managed') => ({
    address,
    type: address.replace(/^data\./, '').split('.')[0]!,
    mode,
    change: { actions },
  });
  const plan: PlanJson = {
    resource_changes: [
      change('aws_vpc.vpc', ['create']),
      change('aws_instance.server', ['create']),
      change('aws_subnet.public_b', ['create']),
      change('aws_subnet.public_a', ['create']),
      change('aws_security_group.api', ['update']),
      change('aws_db_instance.postgres', ['delete', 'create']),
      change('aws_iam_role.old', ['delete']),
      change('aws_s3_bucket.assets', ['no-op']),
      change('data.aws_ami.ubuntu', ['read'], 'data'),
    ],
  };
  const s = summarizePlan('lab', plan);

  it('counts a replace as an add, a destroy and a replace; updates as changes; no-ops as nothing', () => {
    expect(s).toMatchObject({ stack: 'lab', add: 5, change: 1, destroy: 2, replace: 1 });
    expect(describeCounts(s)).toBe('5 to add, 1 to change, 2 to destroy (1 replaced)');
    expect(describeCounts({ add: 3, change: 0, destroy: 0, replace: 0 })).toBe('3 to add, 0 to change, 0 to destroy');
  });

  it('addByType puts the most first, then orders by type name; destroying lists replaced and deleted, in plan order', () => {
    expect(s.addByType).toEqual([
      ['aws_subnet', 2],
      ['aws_db_instance', 1],
      ['aws_instance', 1],
      ['aws_vpc', 1],
    ]);
    expect(s.destroying).toEqual(['aws_db_instance.postgres', 'aws_iam_role.old']);
  });

  it('ignores data sources, even one whose actions look like a create, and an empty plan is all zeros', () => {
    const data = summarizePlan('d', { resource_changes: [change('data.aws_caller_identity.me', ['create'], 'data')] });
    expect([data.add, data.addByType]).toEqual([0, []]);
    expect(summarizePlan('e', {})).toEqual({ stack: 'e', add: 0, change: 0, destroy: 0, replace: 0, addByType: [], destroying: [] });
  });
});

describe('the emulator override (test-only)', () => {
  const exec = { api_version: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'lab'] };
  const stack = {
    terraform: {
      required_providers: {
        aws: { source: 'aws', version: '6.25.0' },
        random: { source: 'hashicorp/random', version: '3.7.2' },
        kubernetes: { source: 'kubernetes', version: '2.38.0' },
      },
    },
    provider: {
      aws: [{ region: 'us-east-1' }, { alias: 'euw1', region: 'eu-west-1' }],
      kubernetes: [{ alias: 'use1', host: '${aws_eks_cluster.use1.endpoint}', exec: [exec] }],
      random: [{}],
    },
    resource: {
      aws_vpc: { vpc: { cidr_block: '10.0.0.0/16' } },
      aws_msk_cluster: { kafka_a: { cluster_name: 'a' }, kafka_b: { cluster_name: 'b' } },
      aws_db_instance: { primary: { engine: 'postgres' }, replica: { replicate_source_db: '${aws_db_instance.primary.identifier}' } },
    },
  };
  const stackDir = folder('stack', { 'cdk.tf.json': stack });
  const k8sFile = join(
    folder('k8s', { 'k8s.json': { host: 'https://127.0.0.1:6443', token: 'tok-123', ca: '-----BEGIN CERTIFICATE-----\nX\n' } }),
    'k8s.json',
  );
  const endpoint = 'http://127.0.0.1:5000';

  it('reads nothing without LABFORGE_TEST_AWS_EMULATOR; parses the exclusions and the kubernetes file with it', () => {
    expect(emulatorSettings({ LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_msk_cluster' })).toBeUndefined();
    expect(
      emulatorSettings({
        LABFORGE_TEST_AWS_EMULATOR: ` ${endpoint} `,
        LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_msk_cluster, aws_mq_broker,',
        LABFORGE_TEST_KUBERNETES: k8sFile,
      }),
    ).toEqual({
      endpoint,
      excludeTypes: ['aws_msk_cluster', 'aws_mq_broker'],
      kubernetes: { host: 'https://127.0.0.1:6443', token: 'tok-123', ca: '-----BEGIN CERTIFICATE-----\nX\n' },
    });
  });

  it('one aws block per original, same alias, every endpoint the emulator, fake keys, loosened versions', () => {
    writeEmulatorOverride(stackDir, emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint }));
    const o = json(join(stackDir, OVERRIDE_FILE));
    expect(Object.keys(o.provider)).toEqual(['aws']); // no kubernetes settings: its provider is left alone
    expect(o.provider.aws.map((b: { alias?: string }) => b.alias)).toEqual([undefined, 'euw1']);
    for (const block of o.provider.aws) {
      expect(block).toMatchObject({
        access_key: 'testing',
        secret_key: 'testing',
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
      });
      const endpoints = block.endpoints[0] as Record<string, string>;
      expect(Object.keys(endpoints)).toEqual(expect.arrayContaining(['ec2', 's3', 'sts', 'iam', 'kms', 'rds', 'eks']));
      expect(new Set(Object.values(endpoints))).toEqual(new Set([endpoint]));
    }
    expect(o.terraform.required_providers).toEqual({
      aws: { source: 'aws', version: '>= 6.25.0' },
      random: { source: 'hashicorp/random', version: '>= 3.7.2' },
      kubernetes: { source: 'kubernetes', version: '>= 2.38.0' },
    });
  });

  it('with LABFORGE_TEST_KUBERNETES the kubernetes providers go to that server, their exec printing its token', () => {
    writeEmulatorOverride(stackDir, emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint, LABFORGE_TEST_KUBERNETES: k8sFile }));
    const blocks = json(join(stackDir, OVERRIDE_FILE)).provider.kubernetes;
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({
      alias: 'use1',
      host: 'https://127.0.0.1:6443',
      cluster_ca_certificate: '-----BEGIN CERTIFICATE-----\nX\n',
    });
    const e = blocks[0].exec[0] as { api_version: string; command: string; args: string[] };
    expect(e.command).not.toBe('aws');
    const credential = JSON.parse(execFileSync(e.command, e.args, { encoding: 'utf8' }));
    expect(credential).toEqual({ apiVersion: e.api_version, kind: 'ExecCredential', status: { token: 'tok-123' } });
  });

  it('without settings the override file is removed (and removing it twice is fine)', () => {
    writeEmulatorOverride(stackDir, emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint }));
    expect(existsSync(join(stackDir, OVERRIDE_FILE))).toBe(true);
    writeEmulatorOverride(stackDir, undefined);
    expect(existsSync(join(stackDir, OVERRIDE_FILE))).toBe(false);
    expect(() => writeEmulatorOverride(stackDir, undefined)).not.toThrow();
  });

  it('excludeArgs: one -exclude per resource of an excluded type, none without settings or types', () => {
    const settings = emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint, LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_msk_cluster' });
    expect(excludeArgs(stackDir, settings)).toEqual(['-exclude=aws_msk_cluster.kafka_a', '-exclude=aws_msk_cluster.kafka_b']);
    expect(excludeArgs(stackDir, emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint }))).toEqual([]);
    expect(excludeArgs(stackDir, undefined)).toEqual([]);
  });

  it('excludeArgs: `type[attr]` takes only the resources of that type that set attr (the replica, not the primary)', () => {
    const settings = emulatorSettings({
      LABFORGE_TEST_AWS_EMULATOR: endpoint,
      LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_msk_cluster,aws_db_instance[replicate_source_db]',
    });
    expect(excludeArgs(stackDir, settings)).toEqual([
      '-exclude=aws_msk_cluster.kafka_a',
      '-exclude=aws_msk_cluster.kafka_b',
      '-exclude=aws_db_instance.replica',
    ]);
    const bad = emulatorSettings({ LABFORGE_TEST_AWS_EMULATOR: endpoint, LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_db_instance[' });
    expect(() => excludeArgs(stackDir, bad)).toThrow("bad entry 'aws_db_instance['");
  });

  it('outputs that read an excluded resource get a placeholder that still depends on an applied resource; `type[attr~text]` matches a reference', () => {
    const stack = {
      terraform: { required_providers: { aws: { source: 'aws', version: '6.25.0' } } },
      provider: { aws: [{ region: 'us-east-1' }] },
      resource: {
        aws_vpc: { net: { cidr_block: '10.0.0.0/16' } },
        aws_msk_cluster: { events: {} },
        aws_vpc_security_group_ingress_rule: {
          from_cluster: { referenced_security_group_id: '${aws_eks_cluster.k8s.vpc_config[0].cluster_security_group_id}' },
          from_app: { referenced_security_group_id: '${aws_security_group.app.id}' },
        },
      },
      output: {
        kafka_bootstrap: { value: { 'us-east-1': '${aws_msk_cluster.events.bootstrap_brokers_tls}' } },
        vpc_id: { value: '${aws_vpc.net.id}' },
      },
    };
    const d = folder('placeholders', { 'cdk.tf.json': stack });
    const settings = emulatorSettings({
      LABFORGE_TEST_AWS_EMULATOR: endpoint,
      LABFORGE_TEST_TF_EXCLUDE_TYPES: 'aws_msk_cluster,aws_vpc_security_group_ingress_rule[referenced_security_group_id~aws_eks_cluster]',
    });
    expect(excludeArgs(d, settings)).toEqual([
      '-exclude=aws_msk_cluster.events',
      '-exclude=aws_vpc_security_group_ingress_rule.from_cluster',
    ]);
    writeEmulatorOverride(d, settings);
    const override = json(join(d, OVERRIDE_FILE));
    expect(override.output).toEqual({
      kafka_bootstrap: { value: { 'us-east-1': '${aws_vpc.net.id == "" ? "" : "excluded-from-the-emulator-test.invalid"}' } },
    });
  });
});

describe('resolveAllowCidr (--allow-cidr)', () => {
  /** An echo service on 127.0.0.1 answering `body`; its URL. */
  async function echo(body: string): Promise<{ url: string; server: Server }> {
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
  }
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  const rejection = async (p: Promise<unknown>): Promise<Error> =>
    p.then(
      () => new Error('resolved'),
      (e: Error) => e,
    );

  it('auto: the echo service address as a /32', async () => {
    const { url, server } = await echo('203.0.113.7\n');
    try {
      expect(await resolveAllowCidr('auto', { LABFORGE_CHECKIP_URL: url })).toBe('203.0.113.7/32');
    } finally {
      await close(server);
    }
  });

  it('auto: an answer that is not an address is an ExternalError naming the service', async () => {
    const { url, server } = await echo('hello');
    try {
      const error = await rejection(resolveAllowCidr('auto', { LABFORGE_CHECKIP_URL: url }));
      expect(error).toBeInstanceOf(ExternalError);
      expect(error.message).toBe(`--allow-cidr auto: ${url} answered 'hello', not an IPv4 address`);
      expect((error as ExternalError).hint).toContain('nothing was created');
    } finally {
      await close(server);
    }
  });

  it('auto: an echo service that does not answer is an ExternalError', async () => {
    const { url, server } = await echo('');
    await close(server);
    const error = await rejection(resolveAllowCidr('auto', { LABFORGE_CHECKIP_URL: url }));
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.message).toContain(`--allow-cidr auto: cannot find your public address (${url}: `);
  });

  it('a CIDR passes through, the world is refused, no flag opens nothing', async () => {
    expect(await resolveAllowCidr('198.51.100.0/24', {})).toBe('198.51.100.0/24');
    const wide = await rejection(resolveAllowCidr('0.0.0.0/0', {}));
    expect(wide).toBeInstanceOf(UsageError);
    expect(wide.message).toContain('too wide');
    expect(await resolveAllowCidr(undefined, {})).toBeUndefined();
  });
});

describe('Terraform state and statusAwsLab', () => {
  const resource = (type: string, name: string, mode = 'managed', instances: unknown[] = [{ attributes: {} }]) => ({
    mode,
    type,
    name,
    provider: 'provider["registry.opentofu.org/hashicorp/aws"]',
    instances,
  });
  const tfstate = (resources: unknown[]) => ({ version: 4, terraform_version: '1.10.0', serial: 3, lineage: 'l', outputs: {}, resources });
  const three = tfstate([
    resource('aws_vpc', 'vpc'),
    resource('aws_subnet', 'public'),
    resource('aws_instance', 'server'),
    resource('aws_ami', 'ubuntu', 'data'),
  ]);

  const text = (doc: unknown) => JSON.stringify(doc);
  it('addressesIn: type.name of each managed resource with instances; none without a state document', () => {
    expect(addressesIn(text(three))).toEqual(['aws_vpc.vpc', 'aws_subnet.public', 'aws_instance.server']);
    expect(addressesIn(text(tfstate([resource('aws_vpc', 'vpc', 'managed', []), resource('aws_eip', 'ip')])))).toEqual(['aws_eip.ip']);
    expect(addressesIn(undefined)).toEqual([]);
  });

  it('addressesIn: data sources hold nothing, a damaged document counts as holding something (destroy will tell)', () => {
    expect(addressesIn(text(tfstate([resource('aws_ami', 'ubuntu', 'data')])))).toEqual([]);
    expect(addressesIn('{"version": 4, "resou')).toEqual([UNREADABLE_STATE]);
  });

  it('LabStates (local backend): each stack file read from its directory; outputs merged, sensitive ones named', async () => {
    const home = folder('home-outputs');
    const layout = awsLabLayout(home, 'e');
    const write = (stack: string, outputs: Record<string, unknown>) => {
      mkdirSync(layout.stackDir(stack), { recursive: true });
      writeFileSync(join(layout.stackDir(stack), 'terraform.tfstate'), JSON.stringify({ ...three, outputs }));
    };
    write('e', { url: { value: 'postgres://a', type: 'string' }, password: { value: 'p1', type: 'string', sensitive: true } });
    write('e-k8s', { url: { value: 'postgres://b', type: 'string' } });
    const states = new LabStates(home, { name: 'e', regions: ['us-east-1'], stacks: ['e', 'e-k8s', 'e-none'] });
    expect(await states.addresses('e')).toHaveLength(3);
    expect(await states.addresses('e-none')).toEqual([]);
    expect(await states.outputs()).toEqual({ values: { url: 'postgres://b', password: 'p1' }, secret: ['password'] });
    expect(states.where).toMatch(/^local /);
    expect(await states.removeRemote()).toEqual([]);
    expect(existsSync(join(layout.stackDir('e'), 'terraform.tfstate'))).toBe(true);
  });

  const now = new Date('2026-12-01T12:00:00.000Z');
  /** A fabricated aws lab record under its own home, with `tfstates` per stack. */
  function lab(name: string, fields: Partial<AwsLabState>, tfstates: Record<string, unknown> = {}): string {
    const home = folder(`home-${name}`);
    const layout = awsLabLayout(home, name);
    mkdirSync(layout.dir, { recursive: true });
    for (const [stack, content] of Object.entries(tfstates)) {
      mkdirSync(layout.stackDir(stack), { recursive: true });
      writeFileSync(join(layout.stackDir(stack), 'terraform.tfstate'), JSON.stringify(content));
    }
    const state: AwsLabState = {
      version: AWS_STATE_VERSION,
      name,
      level: 'beginner',
      target: 'aws',
      createdAt: '2026-12-01T09:00:00.000Z',
      updatedAt: '2026-12-01T09:00:00.000Z',
      expiresAt: '2026-12-01T13:00:00.000Z',
      owner: 'ada',
      regions: ['us-east-1'],
      hourlyUsd: 0.5,
      binary: '/usr/bin/tofu',
      stacks: ['b1'],
      phase: 'up',
      ...fields,
    };
    writeAwsState(home, state);
    return home;
  }

  it('an up lab: its resources from the state, hours since the first apply, the cost so far', async () => {
    const home = lab('b1', { appliedAt: new Date(now.getTime() - 2 * 3_600_000).toISOString() }, { b1: three });
    expect(existsSync(join(home, 'b1', 'tf', 'stacks', 'b1', 'terraform.tfstate'))).toBe(true);
    expect(await statusAwsLab(home, 'b1', now)).toEqual({
      name: 'b1',
      level: 'beginner',
      target: 'aws',
      regions: ['us-east-1'],
      state: 'up',
      resources: 3,
      createdAt: '2026-12-01T09:00:00.000Z',
      expiresAt: '2026-12-01T13:00:00.000Z',
      hoursUp: 2,
      hourlyUsd: 0.5,
      costSoFarUsd: 1,
      backend: 'local (tf/stacks/<stack>/terraform.tfstate in the lab directory)',
    });
  });

  it('an up interrupted before apply: nothing created, nothing spent, down clears it', async () => {
    const s = await statusAwsLab(lab('cut', { phase: 'interrupted' }), 'cut', now);
    expect(s.state).toBe('up stopped before anything was created: `labforge down cut` clears it');
    expect([s.resources, s.hoursUp, s.costSoFarUsd]).toEqual([0, 0, 0]);
  });

  it('a failed apply that left resources names the error; a live up (this process) is reported as running', async () => {
    const failed = await statusAwsLab(
      lab('bad', { phase: 'failed', error: 'apply of stack b1 failed: quota', appliedAt: now.toISOString() }, { b1: three }),
      'bad',
      now,
    );
    expect(failed.state).toBe('failed (apply of stack b1 failed: quota): `labforge down bad` removes it');
    expect((await statusAwsLab(lab('busy', { phase: 'deploying', pid: process.pid }), 'busy', now)).state).toBe(
      'deploying (labforge up is running)',
    );
  });
});
