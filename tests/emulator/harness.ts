// The emulator tests' world: moto in server mode standing in for AWS on 127.0.0.1, and a real
// OpenTofu with real AWS, random and kubernetes providers built from the Go module proxy
// (scripts/emulator/build.sh, run by `npm run test:emulator` before the tests). Nothing here
// builds or installs: a missing part fails with the command that provides it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DescribeInstancesCommand, DescribeNatGatewaysCommand, DescribeVpcPeeringConnectionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { freePort, until } from '../e2e/helpers.js';

export const ROOT = join(import.meta.dirname, '../..');
const MOTO_VERSION = '5.2.5';
export const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
// The SDK is pinned; its notice that later releases need Node 22 is noise in the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * What moto cannot do, left out of every apply (with what depends on it) and listed in the README:
 * ElastiCache, MSK and cross-region RDS replicas (../shared/FIELD-NOTES.md), and rules that admit
 * an EKS cluster's security group: moto's clusters have none (cluster_security_group_id is empty).
 */
export const UNSUPPORTED = [
  'aws_elasticache_replication_group',
  'aws_elasticache_subnet_group',
  'aws_msk_cluster',
  'aws_db_instance[replicate_source_db]',
  'aws_vpc_security_group_ingress_rule[referenced_security_group_id~aws_eks_cluster]',
];

export interface Toolchain {
  readonly dir: string;
  readonly tofu: string;
  readonly cliConfig: string;
  /** `aws=6.47.1` ... as installed in the mirror. */
  readonly providers: string;
  /** The build's first line: time, cores, Go. */
  readonly built: string;
}

/** The cached build, found by asking the build script (which only prints the path when cached). */
export function toolchain(): Toolchain {
  const script = join(ROOT, 'scripts/emulator/build.sh');
  const cached = spawnSync('bash', ['-c', `"${script}" --print-if-cached`], { encoding: 'utf8' });
  const dir = cached.stdout.trim().split('\n').pop() ?? '';
  if (cached.status !== 0 || !existsSync(join(dir, '.build-complete'))) {
    throw new Error(
      `OpenTofu and the providers are not built: run scripts/emulator/build.sh (npm run test:emulator does) — ${cached.stderr.trim().split('\n').pop() ?? ''}`,
    );
  }
  return {
    dir,
    tofu: join(dir, 'bin/tofu'),
    cliConfig: join(dir, 'tofurc'),
    providers: readFileSync(join(dir, 'providers'), 'utf8').trim().replace(/\n/g, ', '),
    built: readFileSync(join(dir, '.build-complete'), 'utf8').split('\n')[0]!,
  };
}

export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

function motoServer(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const candidates = [process.env.LABFORGE_MOTO_SERVER, join(cache, `labforge/moto-${MOTO_VERSION}/bin/moto_server`)];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found)
    throw new Error(`moto_server ${MOTO_VERSION} not found: run scripts/setup.sh --test (pip install 'moto[server]==${MOTO_VERSION}')`);
  return found;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  // moto runs botocore inside: a stray AWS_PROFILE (even an empty one) breaks every EC2 call.
  const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const child: ChildProcess = spawn(motoServer(), ['-H', '127.0.0.1', '-p', String(port)], {
    env: {
      ...own,
      // The Debian AMI the stacks look up by owner and name; IAM's managed policies for the EKS roles.
      MOTO_AMIS_PATH: join(import.meta.dirname, 'fixtures/amis.json'),
      MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4000)));
  // `localhost`, not 127.0.0.1: the provider builds some service hosts from the endpoint's name.
  const endpoint = `http://localhost:${port}`;
  await until('moto to answer', 20_000, async () => {
    try {
      return (await fetch(`${endpoint}/moto-api/`)).ok || undefined;
    } catch {
      if (child.exitCode !== null) throw new Error(`moto_server exited: ${log}`);
      return undefined;
    }
  });
  return {
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The CLI's environment: the emulator for tofu (test-only override) and for the SDK, fake keys, nothing from the user's AWS config. */
export function cliEnv(moto: Moto, tools: Toolchain, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LABFORGE_HOME: home,
    LABFORGE_TF_BIN: tools.tofu,
    TF_CLI_CONFIG_FILE: tools.cliConfig,
    LABFORGE_TEST_AWS_EMULATOR: moto.endpoint,
    LABFORGE_TEST_TF_EXCLUDE_TYPES: UNSUPPORTED.join(','),
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    ...extra,
  };
}

/**
 * What the emulator holds tagged `labforge:lab=<lab>`, asked independently of labforge: the
 * tagging API per region, plus instances. Like AWS for a while, moto keeps terminated instances,
 * deleted NAT gateways and peering connections, and KMS keys pending deletion, tags and all:
 * those count as gone.
 */
export async function taggedWith(moto: Moto, lab: string, regions: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const region of regions) {
    const config = { region, endpoint: moto.endpoint, credentials, maxAttempts: 2 };
    const tagging = new ResourceGroupsTaggingAPIClient(config);
    const ec2 = new EC2Client(config);
    const kms = new KMSClient(config);
    try {
      let token: string | undefined;
      do {
        const page = await tagging.send(
          new GetResourcesCommand({ TagFilters: [{ Key: 'labforge:lab', Values: [lab] }], PaginationToken: token }),
        );
        for (const r of page.ResourceTagMappingList ?? []) {
          const arn = r.ResourceARN!;
          if (/:instance\/|:natgateway\//.test(arn)) continue;
          // A destroyed KMS key waits out its deletion period, tags and all, as on AWS.
          if (arn.includes(':key/') && (await kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata?.KeyState === 'PendingDeletion')
            continue;
          // So does a deleted VPC peering connection (status `deleted`), in both regions.
          const pcx = /:vpc-peering-connection\/(pcx-[0-9a-f]+)$/.exec(arn)?.[1];
          if (
            pcx &&
            (await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] }))).VpcPeeringConnections?.[0]
              ?.Status?.Code === 'deleted'
          )
            continue;
          found.push(arn);
        }
        token = page.PaginationToken || undefined;
      } while (token);
      const reservations =
        (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:labforge:lab', Values: [lab] }] }))).Reservations ?? [];
      for (const i of reservations.flatMap((r) => r.Instances ?? []))
        if (i.State?.Name !== 'terminated') found.push(`${region} instance ${i.InstanceId} (${i.State?.Name})`);
      const nats =
        (await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'tag:labforge:lab', Values: [lab] }] }))).NatGateways ?? [];
      for (const n of nats) if (n.State !== 'deleted') found.push(`${region} natgateway ${n.NatGatewayId} (${n.State})`);
    } finally {
      tagging.destroy();
      ec2.destroy();
      kms.destroy();
    }
  }
  return [...new Set(found)].sort();
}
