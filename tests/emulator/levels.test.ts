// The intermediate, advanced and expert labs on the aws target, applied by tofu with the real
// providers: the AWS resources against moto (all that moto can create: harness.ts UNSUPPORTED
// lists what it cannot), and the `<lab>-k8s` stacks into real kube-apiservers standing in for the
// EKS API endpoints (one per region). Then `down`, and the emulator and the API servers, asked
// independently of labforge, hold nothing of the lab. The advanced lab keeps its state in the
// emulator's S3 (`--backend s3://...`): its `-k8s` stack reads the cluster stack's outputs there.
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as cliIn, json, type RunOptions } from '../e2e/helpers.js';
import { startTestCluster, type TestCluster } from '../e2e/k8s-cluster.js';
import { cliEnv, credentials, startMoto, taggedWith, toolchain, type Moto, type Toolchain } from './harness.js';

const RUN = Math.random().toString(36).slice(2, 7);
let moto: Moto;
let tools: Toolchain;
let home: string;
const clusters: Record<string, TestCluster> = {};
let env: Record<string, string>;
const cli = (args: string[], o: Omit<RunOptions, 'home'> = {}) => cliIn(args, { timeoutMs: 900_000, env, ...o, home });
const STATE_BUCKET = `lf-state-${RUN}`;
let s3: S3Client;

beforeAll(async () => {
  tools = toolchain();
  moto = await startMoto();
  home = mkdtempSync(join(tmpdir(), 'lf-emulator-levels-'));
  // One API server per region alias of the `-k8s` stacks: the same namespace exists in each.
  const [use1, euw1] = await Promise.all([startTestCluster(), startTestCluster()]);
  Object.assign(clusters, { use1: use1, euw1: euw1 });
  const servers: Record<string, unknown> = Object.fromEntries(
    Object.entries(clusters).map(([alias, c]) => [alias, { host: c.url, token: c.token, ca: readFileSync(c.caFile, 'utf8') }]),
  );
  // advanced has one region: its provider has no alias.
  servers.default = servers.use1;
  const k8sFile = join(home, 'kubernetes.json');
  writeFileSync(k8sFile, JSON.stringify(servers), { mode: 0o600 });
  env = cliEnv(moto, tools, home, { LABFORGE_TEST_KUBERNETES: k8sFile });
  s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: STATE_BUCKET }));
}, 300_000);
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  await Promise.all(Object.values(clusters).map((c) => c.stop()));
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The lab's namespace on a test API server, or undefined when it is gone. */
function namespace(cluster: TestCluster, name: string): { labels: Record<string, string> } | undefined {
  try {
    const out = execFileSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, 'get', 'namespace', name, '-o', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ns = JSON.parse(out) as { metadata: { labels: Record<string, string> }; status?: { phase?: string } };
    return ns.status?.phase === 'Terminating' ? undefined : { labels: ns.metadata.labels };
  } catch {
    return undefined;
  }
}

/** The keys under `labs/<lab>/` in the state bucket. */
async function stateObjects(lab: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: STATE_BUCKET, Prefix: `labs/${lab}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

/** The cluster stack's Terraform state: its local file, or its object in the state bucket. */
async function clusterState(lab: string, remote: boolean): Promise<{ resources: { mode: string; type: string }[] }> {
  if (!remote) return JSON.parse(readFileSync(join(home, lab, 'tf/stacks', lab, 'terraform.tfstate'), 'utf8'));
  const object = await s3.send(new GetObjectCommand({ Bucket: STATE_BUCKET, Key: `labs/${lab}/${lab}.tfstate` }));
  return JSON.parse(await object.Body!.transformToString());
}

async function upAndDown(
  level: string,
  regions: string[],
  expectOutputs: (o: Record<string, unknown>) => void,
  expectTypes: string[],
  k8sAliases: string[],
  remoteState = false,
) {
  const lab = `${level.slice(0, 3)}-${RUN}`;
  const backend = remoteState ? ['--backend', `s3://${STATE_BUCKET}/labs`] : [];
  const up = await cli(['up', level, '--target', 'aws', '--name', lab, '--yes', '--json', '--health-timeout', '2s', ...backend]);
  expect(up.code, up.stderr.slice(-3000)).toBe(0);
  const result = json(up);
  expect(result.outcome).toBe('up');
  expect(result.stacks).toEqual(k8sAliases.length > 0 ? [lab, `${lab}-k8s`] : [lab]);
  expectOutputs(result.outputs);
  // Nothing in a private subnet is reported as passed.
  for (const h of result.health) if (h.reach === 'private') expect(h.ok).toBe(false);
  const types = (await clusterState(lab, remoteState)).resources.filter((r) => r.mode === 'managed').map((r) => r.type);
  expect(types).toEqual(expect.arrayContaining(expectTypes));
  if (remoteState) {
    // The bucket holds the only copy: one object per stack, none beside the stacks.
    expect(result.backend).toBe(`s3://${STATE_BUCKET}/labs/${lab}/`);
    expect(await stateObjects(lab)).toEqual(result.stacks.map((s: string) => `labs/${lab}/${s}.tfstate`).sort());
    for (const stack of result.stacks) expect(existsSync(join(home, lab, 'tf/stacks', stack, 'terraform.tfstate')), stack).toBe(false);
    const status = json(await cli(['status', lab, '--json']));
    expect(status).toMatchObject({ state: 'up', backend: `s3://${STATE_BUCKET}/labs/${lab}/` });
    expect(status.resources).toBeGreaterThan(types.length);
    const secrets = json(await cli(['secrets', lab, '--json']));
    expect(Object.keys(secrets.outputs).length).toBeGreaterThan(0);
  }
  expect((await taggedWith(moto, lab, regions)).length).toBeGreaterThan(10);
  // The cluster stack went first: the k8s stack read its outputs from its state.
  if (k8sAliases.length > 0) expect(up.stderr.indexOf(`${lab}: tofu apply`)).toBeLessThan(up.stderr.indexOf(`${lab}-k8s: tofu plan`));
  for (const alias of k8sAliases) {
    const ns = namespace(clusters[alias]!, `lf-${lab}`);
    expect(ns?.labels['labforge.dev/lab'], `namespace lf-${lab} on ${alias}`).toBe(lab);
  }

  const down = await cli(['down', lab]);
  expect(down.code, down.stdout + down.stderr.slice(-3000)).toBe(0);
  expect(down.stdout).toContain('nothing left');
  // Destroyed in reverse: the objects inside the clusters before the clusters.
  if (k8sAliases.length > 0)
    expect(down.stderr.indexOf(`${lab}-k8s: tofu destroy`)).toBeLessThan(down.stderr.indexOf(`${lab}: tofu destroy`));
  expect(await taggedWith(moto, lab, regions)).toEqual([]);
  for (const alias of k8sAliases) expect(namespace(clusters[alias]!, `lf-${lab}`)).toBeUndefined();
  // The bucket keeps nothing of the removed lab.
  if (remoteState) {
    expect(down.stdout).toContain(`  state     s3://${STATE_BUCKET}/labs/${lab}/ objects deleted`);
    expect(await stateObjects(lab)).toEqual([]);
  }
  return result;
}

describe(`labs with managed stores and clusters on the aws target, applied by tofu against moto (${RUN})`, () => {
  it('intermediate: NAT, RDS, the uploads bucket (its health probe writes and reads an object) up and down', async () => {
    const result = await upAndDown(
      'intermediate',
      ['us-east-1'],
      (o) => {
        // The app VM's cloud-init reads the ElastiCache endpoint: it is left out with ElastiCache.
        expect(o.app_public_ip).toBeUndefined();
        expect(o.uploads_bucket).toMatch(/^lf-int-/);
        expect(String(o.postgres_endpoint)).toContain('.rds.');
      },
      [
        'aws_nat_gateway',
        'aws_eip',
        'aws_db_instance',
        'aws_db_subnet_group',
        'aws_s3_bucket',
        'aws_s3_bucket_public_access_block',
        'aws_s3_bucket_server_side_encryption_configuration',
        'aws_iam_role_policy',
      ],
      [],
    );
    const bucket = result.health.find((h: { name: string }) => h.name.endsWith('(s3 bucket)'));
    expect(bucket).toMatchObject({
      reach: 'probed',
      ok: true,
      detail: expect.stringMatching(/^wrote, read back and deleted labforge-health\//),
    });
    expect(result.health.find((h: { name: string }) => h.name === 'db (postgres on RDS)')).toMatchObject({ reach: 'private', ok: false });
  });

  it('advanced, state in S3 (--backend): EKS with its node group, Amazon MQ, RDS, ECR, KMS, then the -k8s stack into the cluster API', async () => {
    const result = await upAndDown(
      'advanced',
      ['us-east-1'],
      (o) => {
        expect(o.eks_cluster_name).toMatch(/^lf-adv-/);
        expect(Object.keys(o.ecr_repository_urls as object).sort()).toEqual(['api', 'worker']);
        expect(String(o.mq_amqp_endpoint)).toMatch(/^amqps:\/\//);
      },
      [
        'aws_eks_cluster',
        'aws_eks_node_group',
        'aws_launch_template',
        'aws_mq_broker',
        'aws_db_instance',
        'aws_ecr_repository',
        'aws_kms_key',
        'aws_kms_alias',
        'aws_iam_role_policy_attachment',
      ],
      ['use1'],
      true,
    );
    expect(result.health.find((h: { name: string }) => h.name.includes('(eks cluster, us-east-1)'))).toMatchObject({
      reach: 'probed',
      ok: true,
    });
    expect(result.health.find((h: { name: string }) => h.name.endsWith('(ecr repositories)'))).toMatchObject({ reach: 'probed', ok: true });
  });

  it('expert: two regions, peering, shard primaries, Route 53 latency records and health checks, EKS per region, and the -k8s stack into both API servers', async () => {
    const result = await upAndDown(
      'expert',
      ['us-east-1', 'eu-west-1'],
      (o) => {
        expect(o.regions).toEqual(['us-east-1', 'eu-west-1']);
        expect(Object.keys(o.eks_cluster_names as object).sort()).toEqual(['eu-west-1', 'us-east-1']);
        expect(o.api_dns_name).toMatch(/^api\./);
      },
      [
        'aws_vpc_peering_connection',
        'aws_vpc_peering_connection_accepter',
        'aws_db_instance',
        'aws_route53_zone',
        'aws_route53_record',
        'aws_route53_health_check',
        'aws_eks_cluster',
      ],
      ['use1', 'euw1'],
    );
    expect(result.health.filter((h: { name: string; ok: boolean }) => h.name.includes('(eks cluster,') && h.ok)).toHaveLength(2);
  });
});
