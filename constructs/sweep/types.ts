// What a sweep finds and what it reports: resources named by their ARN-style kind
// (`ec2:vpc`, `s3:bucket`, `rds:db`), the tag filter, and the one check that decides whether a
// resource belongs to the sweep. Nothing here talks to AWS.
import { TAG_LAB, TAG_OWNER } from '../model/tags.js';

/** Which resources a sweep takes: those whose labforge tags equal every given value. */
export interface SweepFilter {
  /** `labforge:lab` must equal this. @default any lab */
  readonly lab?: string;
  /** `labforge:owner` must equal this. @default any owner */
  readonly owner?: string;
}

/** Region of account-wide resources (IAM, Route 53). */
export const GLOBAL = 'global';

export interface SweepResource {
  /** `<service>:<type>` as in the resource's ARN: `ec2:instance`, `s3:bucket`, `iam:role`. */
  readonly kind: string;
  /** The id the service's delete call takes: `vpc-0abc`, a bucket or role name, an ARN. */
  readonly id: string;
  readonly arn?: string;
  /** A region, or `global` for IAM and Route 53. */
  readonly region: string;
  /** The resource's own name when it has one besides the id. */
  readonly name?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Why it is in the sweep: `tags` (carries the labforge tags), or `in tagged VPC vpc-0abc`. */
  readonly via: string;
  /** Set when the sweep does not delete it itself, and why (`goes with its VPC`). */
  readonly skip?: string;
  /** The VPC, cluster or other container it lives in, when the deleter needs it. */
  readonly parent?: string;
  /** Service-reported state when it matters (`PendingDeletion` for a KMS key). */
  readonly state?: string;
  /** An RDS read replica: deleted before the instances it replicates. */
  readonly replica?: boolean;
}

export type ResourceStatus = 'would delete' | 'would skip' | 'deleted' | 'pending deletion' | 'left' | 'unverified';

export interface ReceiptEntry {
  readonly kind: string;
  readonly id: string;
  readonly arn?: string;
  readonly region: string;
  readonly name?: string;
  readonly via: string;
  readonly status: ResourceStatus;
  /** Why it is left, skipped or unverified; how it went when deleted indirectly. */
  readonly reason?: string;
}

/** A service that could not be listed: the sweep cannot vouch for that kind in that region. */
export interface ListingFailure {
  readonly region: string;
  readonly service: string;
  readonly kinds: readonly string[];
  readonly error: string;
}

export interface SweepReceipt {
  readonly mode: 'dry-run' | 'apply';
  readonly filter: SweepFilter;
  readonly regions: readonly string[];
  /** AWS_ENDPOINT_URL when set (an emulator such as moto), else `aws`. */
  readonly endpoint: string;
  readonly account?: string;
  /** True when nothing matching is left (apply) or every service could be listed (dry run). */
  readonly ok: boolean;
  readonly counts: Readonly<Partial<Record<ResourceStatus, number>>>;
  readonly resources: readonly ReceiptEntry[];
  readonly listingFailures: readonly ListingFailure[];
  /** Discovery passes run (1 for a dry run; apply: two delete passes and a final check). */
  readonly passes: number;
  readonly seconds: number;
}

export function keyOf(r: Pick<SweepResource, 'region' | 'kind' | 'id'>): string {
  return `${r.region}|${r.kind}|${r.id}`;
}

/** True when the tags carry every labforge value the filter names (and it names at least one). */
export function matchesFilter(tags: Readonly<Record<string, string>> | undefined, filter: SweepFilter): boolean {
  if (!tags || (filter.owner === undefined && filter.lab === undefined)) return false;
  if (filter.owner !== undefined && tags[TAG_OWNER] !== filter.owner) return false;
  if (filter.lab !== undefined && tags[TAG_LAB] !== filter.lab) return false;
  return true;
}

/** `owner=ada lab=w1-p01`, for messages. */
export function describeFilter(filter: SweepFilter): string {
  return [filter.owner !== undefined ? `owner=${filter.owner}` : '', filter.lab !== undefined ? `lab=${filter.lab}` : '']
    .filter(Boolean)
    .join(' ');
}

/** The filter as `{ key, value }` pairs, for APIs that filter by tag server-side. */
export function filterTags(filter: SweepFilter): { key: string; value: string }[] {
  return [
    ...(filter.owner !== undefined ? [{ key: TAG_OWNER, value: filter.owner }] : []),
    ...(filter.lab !== undefined ? [{ key: TAG_LAB, value: filter.lab }] : []),
  ];
}

/** `[{Key, Value}]` (EC2, RDS, S3, ...) or `{k: v}` (EKS, MQ) -> a plain record. */
export function tagRecord(
  tags: readonly { Key?: string; Value?: string }[] | Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  if (!tags) return {};
  if (!Array.isArray(tags)) return { ...(tags as Record<string, string>) };
  return Object.fromEntries(
    (tags as { Key?: string; Value?: string }[]).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']),
  );
}

/** `arn:aws:ec2:us-east-1:123:vpc/vpc-1` -> kind `ec2:vpc`, id `vpc-1`; `arn:aws:s3:::b` -> `s3:bucket`, `b`. */
export function parseArn(arn: string): { kind: string; id: string; region: string } | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const service = parts[2]!;
  const region = parts[3] || GLOBAL;
  const resource = parts.slice(5).join(':');
  if (service === 's3' && !resource.includes('/')) return { kind: 's3:bucket', id: resource, region };
  const cut = resource.search(/[/:]/);
  if (cut < 0) return { kind: `${service}:${resource}`, id: arn, region };
  const type = resource.slice(0, cut);
  const rest = resource.slice(cut + 1);
  // An SSM parameter named `/a/b` has the ARN `parameter/a/b`; one named `p`, `parameter/p`.
  if (service === 'ssm' && type === 'parameter') return { kind: 'ssm:parameter', id: rest.includes('/') ? `/${rest}` : rest, region };
  // Services whose delete calls take the name at the end of the ARN; the others take the ARN.
  const byName = ['ec2', 'rds', 'elasticache', 'ecr', 'iam', 'route53', 'mq'].includes(service);
  return { kind: `${service}:${type}`, id: byName ? rest : arn, region };
}
