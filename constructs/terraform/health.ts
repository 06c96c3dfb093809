// Health of a lab on AWS: the local target's own probes (a PostgreSQL login and query, the API's
// register + login round trip) against the endpoints the user's address can reach, and AWS API
// round trips for the managed parts (an S3 object written and read back, EKS and ECR described).
// What sits in private subnets is reported as private, never as passed: labforge cannot reach it.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { probeApi } from '../../health/http.js';
import { probePostgres } from '../../health/postgres.js';
import { withRetry, type ProbeResult, type RetryPolicy } from '../../health/probe.js';
import { componentsOf } from '../model/validate.js';
import type { LabSpec } from '../model/types.js';
import type { AwsClients } from '../aws-sdk/clients.js';
import { httpUrl } from '../model/urls.js';

export interface CloudCheck extends ProbeResult {
  /** `probed`: a real round trip ran (ok says how it went); `private`: not reachable from here. */
  readonly reach: 'probed' | 'private';
}

export interface CloudHealthInput {
  readonly lab: LabSpec;
  readonly regions: readonly string[];
  /** Where the lab's security groups admit SSH, PostgreSQL and the API from; none: nowhere. */
  readonly allowCidr?: string;
  /** Every stack's outputs, secret ones included (passwords for the logins). */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly clients: AwsClients;
  /** Login of the API probe's own account. */
  readonly apiProbe: { readonly email: string; readonly password: string };
  /** Probes of servers on a VM: it may still be booting (cloud-init installs them). */
  readonly vmPolicy: RetryPolicy;
  /** AWS API calls. */
  readonly apiPolicy: RetryPolicy;
}

const privateCheck = (name: string, detail: string): CloudCheck => ({ name, ok: false, reach: 'private', detail, ms: 0, attempts: 0 });
const probed = async (p: Promise<ProbeResult>): Promise<CloudCheck> => ({ ...(await p), reach: 'probed' });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export async function cloudHealth(input: CloudHealthInput): Promise<CloudCheck[]> {
  const { lab, outputs, allowCidr } = input;
  const closed = 'its security group admits no one: `labforge up` with --allow-cidr auto|CIDR opens it to your address';
  const onCluster = componentsOf(lab, 'kubernetes-cluster').length > 0;
  const insideOnly = onCluster ? 'reachable from the cluster only' : 'reachable from the VM only';
  const checks: Promise<CloudCheck>[] = [];

  for (const vm of componentsOf(lab, 'vm')) {
    const ip = str(outputs[`${vm.id}_public_ip`]);
    for (const pg of componentsOf(lab, 'postgres').filter((p) => p.hostVm === vm.id)) {
      const name = `${pg.id} (postgres on VM ${vm.id}${ip ? ` ${ip}` : ''})`;
      if (!ip || allowCidr === undefined)
        checks.push(Promise.resolve(privateCheck(name, `private: ${insideOnly} (${ip ? closed : 'the VM has no public address'})`)));
      else
        checks.push(
          probed(
            probePostgres(
              name,
              {
                host: ip,
                port: 5432,
                database: pg.database,
                user: pg.user,
                password: typeof outputs.postgres_password === 'string' ? outputs.postgres_password : '',
              },
              input.vmPolicy,
            ),
          ),
        );
    }
    if (vm.role !== 'app-host' || onCluster) continue;
    for (const s of componentsOf(lab, 'service').filter((x) => x.port > 0)) {
      const name = `${s.id} (http on VM ${vm.id}${ip ? ` ${ip}:${s.port}` : ''})`;
      if (!ip || allowCidr === undefined)
        checks.push(Promise.resolve(privateCheck(name, `private: ${insideOnly} (${ip ? closed : 'the VM has no public address'})`)));
      else
        checks.push(
          probed(
            probeApi(
              name,
              { baseUrl: httpUrl({ host: ip, port: s.port }), probeEmail: input.apiProbe.email, probePassword: input.apiProbe.password },
              input.vmPolicy,
            ),
          ),
        );
    }
  }
  for (const pg of componentsOf(lab, 'postgres').filter((p) => p.hostVm === undefined)) {
    checks.push(Promise.resolve(privateCheck(`${pg.id} (postgres on RDS)`, `private: ${insideOnly} (RDS in private subnets)`)));
  }
  for (const kind of ['redis', 'rabbitmq', 'kafka'] as const) {
    const service = { redis: 'ElastiCache', rabbitmq: 'Amazon MQ', kafka: 'MSK' }[kind];
    for (const c of componentsOf(lab, kind))
      checks.push(Promise.resolve(privateCheck(`${c.id} (${kind} on ${service})`, `private: ${insideOnly} (in private subnets)`)));
  }
  const region = input.regions[0]!;
  for (const [key, value] of Object.entries(outputs)) {
    const bucket = key.endsWith('_bucket') ? str(value) : undefined;
    if (bucket) checks.push(probed(bucketRoundTrip(input, region, bucket)));
  }
  for (const [clusterRegion, name] of clusterNames(outputs, region)) checks.push(probed(eksActive(input, clusterRegion, name)));
  const repositories = outputs.ecr_repository_urls;
  if (repositories && typeof repositories === 'object') {
    const names = Object.values(repositories as Record<string, unknown>).flatMap((url) =>
      typeof url === 'string' ? [url.slice(url.indexOf('/') + 1)] : [],
    );
    if (names.length > 0) checks.push(probed(ecrRepositories(input, region, names)));
  }
  return Promise.all(checks);
}

/** `[region, cluster name]` from `eks_cluster_name` (one region) or `eks_cluster_names` (region -> name). */
function clusterNames(outputs: Readonly<Record<string, unknown>>, primary: string): [string, string][] {
  const one = str(outputs.eks_cluster_name);
  if (one) return [[primary, one]];
  const many = outputs.eks_cluster_names;
  if (!many || typeof many !== 'object') return [];
  return Object.entries(many as Record<string, unknown>).flatMap(([r, n]) => (typeof n === 'string' ? [[r, n] as [string, string]] : []));
}

/** Writes an object, reads it back, deletes it: the bucket takes and serves data. */
function bucketRoundTrip(input: CloudHealthInput, region: string, bucket: string): Promise<ProbeResult> {
  const s3 = input.clients.s3(region);
  const key = `labforge-health/${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const body = `labforge health ${new Date().toISOString()}`;
  return withRetry(`${bucket} (s3 bucket)`, input.apiPolicy, async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    try {
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = await read.Body?.transformToString();
      if (text !== body) throw new Error(`read back ${JSON.stringify(text?.slice(0, 40))}, wrote ${JSON.stringify(body)}`);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    return `wrote, read back and deleted ${key} (${body.length} bytes)`;
  });
}

function eksActive(input: CloudHealthInput, region: string, name: string): Promise<ProbeResult> {
  return withRetry(`${name} (eks cluster, ${region})`, input.apiPolicy, async () => {
    const c = (await input.clients.eks(region).send(new DescribeClusterCommand({ name }))).cluster;
    if (c?.status !== 'ACTIVE') throw new Error(`status ${c?.status ?? 'unknown'}, not ACTIVE`);
    const access = c.resourcesVpcConfig?.endpointPublicAccess
      ? 'public API endpoint for the allowed CIDR'
      : 'private API endpoint: kubectl from inside the VPC';
    return `ACTIVE, Kubernetes ${c.version ?? '?'}, ${access}`;
  });
}

function ecrRepositories(input: CloudHealthInput, region: string, names: readonly string[]): Promise<ProbeResult> {
  return withRetry(`${names.join(', ')} (ecr repositories)`, input.apiPolicy, async () => {
    const found =
      (await input.clients.ecr(region).send(new DescribeRepositoriesCommand({ repositoryNames: [...names] }))).repositories ?? [];
    if (found.length !== names.length) throw new Error(`found ${found.length} of ${names.length} repositories`);
    return `${found.length} repositories, scan on push ${found.every((r) => r.imageScanningConfiguration?.scanOnPush) ? 'on' : 'off'}`;
  });
}
