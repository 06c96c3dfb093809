// One AWS SDK v3 client per service and region, configured once: the endpoint (AWS_ENDPOINT_URL,
// passed in by the CLI so an emulator such as moto can stand in for AWS), bounded retries and
// timeouts. Also the error helpers: not-found, retryable, one-line messages. Shared by the aws
// target's lifecycle (constructs/terraform) and the tag sweep (constructs/sweep); no cdktf here.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { IAMClient } from '@aws-sdk/client-iam';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KMSClient } from '@aws-sdk/client-kms';
import { MqClient } from '@aws-sdk/client-mq';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ExternalError } from '../model/errors.js';

export interface ClientOptions {
  /** Every service's endpoint (an emulator such as moto). @default the SDK's own resolution, which also reads AWS_ENDPOINT_URL[_<SERVICE>] */
  readonly endpoint?: string;
}

/** IAM and Route 53 are global: their API lives in us-east-1. */
const GLOBAL_API_REGION = 'us-east-1';

export class AwsClients {
  private readonly cache = new Map<string, unknown>();

  constructor(readonly options: ClientOptions = {}) {}

  ec2 = (region: string) => this.get('ec2', region, (c) => new EC2Client(c));
  elbv2 = (region: string) => this.get('elbv2', region, (c) => new ElasticLoadBalancingV2Client(c));
  // Path-style addressing against an emulator: `<bucket>.127.0.0.1` resolves nowhere.
  s3 = (region: string) =>
    this.get('s3', region, (c) => new S3Client({ ...c, forcePathStyle: this.options.endpoint !== undefined, followRegionRedirects: true }));
  ssm = (region: string) => this.get('ssm', region, (c) => new SSMClient(c));
  rds = (region: string) => this.get('rds', region, (c) => new RDSClient(c));
  elasticache = (region: string) => this.get('elasticache', region, (c) => new ElastiCacheClient(c));
  kafka = (region: string) => this.get('kafka', region, (c) => new KafkaClient(c));
  mq = (region: string) => this.get('mq', region, (c) => new MqClient(c));
  eks = (region: string) => this.get('eks', region, (c) => new EKSClient(c));
  ecr = (region: string) => this.get('ecr', region, (c) => new ECRClient(c));
  kms = (region: string) => this.get('kms', region, (c) => new KMSClient(c));
  tagging = (region: string) => this.get('tagging', region, (c) => new ResourceGroupsTaggingAPIClient(c));
  sts = (region: string) => this.get('sts', region, (c) => new STSClient(c));
  iam = () => this.get('iam', GLOBAL_API_REGION, (c) => new IAMClient(c));
  route53 = () => this.get('route53', GLOBAL_API_REGION, (c) => new Route53Client(c));

  /** Closes every client's sockets so the process can exit. */
  destroy(): void {
    for (const client of this.cache.values()) (client as { destroy(): void }).destroy();
    this.cache.clear();
  }

  private get<T>(service: string, region: string, make: (config: ClientConfig) => T): T {
    const key = `${service}|${region}`;
    if (!this.cache.has(key)) {
      this.cache.set(
        key,
        make({
          region,
          ...(this.options.endpoint !== undefined ? { endpoint: this.options.endpoint } : {}),
          // A missing action on an emulator answers 500: a few tries, not the SDK's default patience.
          maxAttempts: 3,
          requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
        }),
      );
    }
    return this.cache.get(key) as T;
  }
}

interface ClientConfig {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

/** The account the credentials belong to; the one-line reason (exit 1) when there are none or AWS cannot be reached. */
export async function callerAccount(clients: AwsClients, region: string): Promise<string> {
  const where = clients.options.endpoint ?? `AWS (sts.${region}.amazonaws.com)`;
  try {
    const identity = await clients.sts(region).send(new GetCallerIdentityCommand({}));
    return identity.Account ?? 'unknown';
  } catch (error) {
    const name = errorName(error);
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test(String((error as Error).message))) {
      throw new ExternalError(
        'no AWS credentials found',
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, then run the sweep again',
        { cause: error },
      );
    }
    if (isNetworkError(error)) {
      throw new ExternalError(
        `cannot reach ${where}: ${errorMessage(error)}`,
        'check the network, or AWS_ENDPOINT_URL when you point labforge at an emulator',
      );
    }
    throw new ExternalError(
      `${where} refused the credentials: ${errorMessage(error)}`,
      'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE',
    );
  }
}

export function errorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  if (e?.name && e.name !== 'Error' && e.name !== 'AggregateError') return e.name;
  return e?.Code ?? e?.code ?? e?.name ?? 'Error';
}

/** `DependencyViolation: resource sg-1 has a dependent object`, for receipts and progress lines. */
export function errorMessage(error: unknown): string {
  const name = errorName(error);
  const e = error as { message?: string; errors?: { message?: string }[] };
  let message = e?.message || e?.errors?.[0]?.message || String(error);
  message = message.split('\n')[0]!.trim();
  // An emulator's missing action answers an HTML page the SDK cannot parse: say the status.
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status && status >= 500 && /parse error/i.test(message)) message = `HTTP ${status} with a body that is not the API's (${message})`;
  return name === 'Error' || message.startsWith(name) ? message : `${name}: ${message}`;
}

const NETWORK_CODES = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
];

export function isNetworkError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; errors?: { code?: string }[] };
  return (
    NETWORK_CODES.includes(e?.code ?? '') ||
    NETWORK_CODES.includes(e?.name ?? '') ||
    (e?.errors ?? []).some((x) => NETWORK_CODES.includes(x.code ?? ''))
  );
}

/** The resource is already gone: deleting it again counts as done. */
export function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return /NotFound|NoSuch|NotExist/.test(name) && !/NoSuchTagSet/.test(name);
}

/** Worth another try after a pause: something still depends on it, or AWS asks to slow down. */
export function isRetryable(error: unknown): boolean {
  const name = errorName(error);
  return (
    /DependencyViolation|InUse|InvalidState|StateFault|ResourceInUse|Conflict|Throttl|RequestLimitExceeded|TooManyRequests|HostedZoneNotEmpty|DeleteConflict|IncorrectState|InvalidIPAddress\.InUse|PriorRequestNotComplete|ServiceUnavailable|InternalError/.test(
      name,
    ) || isNetworkError(error)
  );
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
