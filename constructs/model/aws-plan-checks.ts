// The limits AWS puts on each resource a lab creates, checked in one place: by the plan (with the
// plan's path, `expert/us-east-1/events: ...`) before either engine creates anything, and by each
// engine's components (with their own path) when they are used on their own. Every failure is a
// ValidationError: a bad lab spec or prop, exit 2.
import { ValidationError } from './errors.js';
import { isWorld } from './aws-plan-ingress.js';

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`);
}

const whole = (n: number, min: number) => Number.isInteger(n) && n >= min;

export function checkNetwork(path: string, azs: number, regionIndex = 0): void {
  if (!Number.isInteger(azs) || azs < 1 || azs > 3) fail(path, `azs must be 1-3, got ${azs}`);
  if (!Number.isInteger(regionIndex) || regionIndex < 0 || regionIndex > 200) fail(path, `regionIndex must be 0-200, got ${regionIndex}`);
}

export function checkVm(path: string, vm: { readonly diskGb: number; readonly securityGroups: number }): void {
  if (!whole(vm.diskGb, 8)) fail(path, `diskGb must be a whole number >= 8, got ${vm.diskGb}`);
  if (vm.securityGroups === 0) fail(path, 'securityGroupIds must not be empty');
}

export function checkSecret(path: string, secret: { readonly length: number; readonly parameterName?: string }): void {
  // 16 is ElastiCache's minimum auth token length, 128 the common maximum.
  if (!Number.isInteger(secret.length) || secret.length < 16 || secret.length > 128)
    fail(path, `length must be 16-128, got ${secret.length}`);
  if (secret.parameterName !== undefined && !secret.parameterName.startsWith('/'))
    fail(path, `parameterName must start with '/', got '${secret.parameterName}'`);
}

/** An RDS primary or replica. `backupRetentionDays` only for a primary. */
export function checkRds(
  path: string,
  db: {
    readonly identifier: string;
    readonly storageGb: number;
    readonly subnets: number;
    readonly sources: number;
    readonly backupRetentionDays?: number;
  },
): void {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(db.identifier)) fail(path, `identifier '${db.identifier}' is not a valid RDS identifier`);
  if (db.subnets < 2) fail(path, `subnetIds must list at least 2 subnets (RDS needs two AZs), got ${db.subnets}`);
  if (db.sources === 0) fail(path, 'allowFrom must name at least one source');
  if (!whole(db.storageGb, 20)) fail(path, `storageGb must be >= 20, got ${db.storageGb}`);
  const backups = db.backupRetentionDays ?? 0;
  if (!Number.isInteger(backups) || backups < 0 || backups > 35) fail(path, `backupRetentionDays must be 0-35, got ${backups}`);
}

export function checkRedis(path: string, redis: { readonly name: string; readonly subnets: number; readonly sources: number }): void {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(redis.name)) fail(path, `name '${redis.name}' is not a valid replication group id (<= 40)`);
  if (redis.subnets === 0) fail(path, 'subnetIds must not be empty');
  if (redis.sources === 0) fail(path, 'allowFrom must name at least one source');
}

export function checkRabbitmq(path: string, mq: { readonly name: string; readonly user: string; readonly sources: number }): void {
  if (mq.name.length === 0 || mq.name.length > 50) fail(path, `name must be 1-50 characters, got ${mq.name.length}`);
  if (!/^[a-zA-Z0-9._~-]{2,100}$/.test(mq.user) || mq.user.startsWith('guest'))
    fail(path, `user '${mq.user}' is not a valid Amazon MQ user name`);
  if (mq.sources === 0) fail(path, 'allowFrom must name at least one source');
}

export function checkKafka(path: string, kafka: { readonly brokers: number; readonly subnets: number; readonly cidrs: number }): void {
  const { brokers, subnets } = kafka;
  if (subnets < 2 || subnets > 3) fail(path, `subnetIds must list 2 or 3 subnets, got ${subnets}`);
  // MSK spreads brokers evenly over the subnets.
  if (!Number.isInteger(brokers) || brokers < subnets || brokers % subnets !== 0)
    fail(path, `brokers must be a multiple of the ${subnets} subnets, got ${brokers}`);
  if (kafka.cidrs === 0) fail(path, 'allowCidrs must not be empty');
}

export function checkEks(
  path: string,
  eks: {
    readonly minNodes: number;
    readonly maxNodes: number;
    readonly desiredNodes: number;
    readonly subnets: number;
    readonly publicAccessCidr?: string;
  },
): void {
  const { minNodes, maxNodes, desiredNodes } = eks;
  if (!whole(minNodes, 1)) fail(path, `minNodes must be >= 1, got ${minNodes}`);
  if (maxNodes < minNodes) fail(path, `maxNodes ${maxNodes} must be >= minNodes ${minNodes}`);
  if (desiredNodes < minNodes || desiredNodes > maxNodes)
    fail(path, `desiredNodes must be between ${minNodes} and ${maxNodes}, got ${desiredNodes}`);
  if (eks.subnets < 2) fail(path, `subnetIds must span 2 AZs at least, got ${eks.subnets}`);
  if (eks.publicAccessCidr !== undefined && isWorld(eks.publicAccessCidr))
    fail(path, `the API endpoint may not be opened to ${eks.publicAccessCidr}`);
}

export function checkRegistry(path: string, repositories: readonly string[]): void {
  if (repositories.length === 0) fail(path, 'repositories must not be empty');
  const seen = new Set<string>();
  for (const name of repositories) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) fail(path, `repository name '${name}' is not valid for ECR`);
    if (seen.has(name)) fail(path, `repository '${name}' is listed twice`);
    seen.add(name);
  }
}

export function checkBucketPrefix(path: string, namePrefix: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{0,36}$/.test(namePrefix)) fail(path, `namePrefix '${namePrefix}' must be <= 37 lowercase characters`);
}

export function checkKmsKey(path: string, deletionWindowDays: number): void {
  if (!Number.isInteger(deletionWindowDays) || deletionWindowDays < 7 || deletionWindowDays > 30)
    fail(path, `deletionWindowDays must be 7-30, got ${deletionWindowDays}`);
}

/** Latency records need distinct regions, at least one. */
export function checkDns(path: string, regions: readonly string[]): void {
  if (regions.length === 0) fail(path, 'regions must not be empty');
  if (new Set(regions).size !== regions.length) fail(path, 'regions must be distinct');
}

export function checkPeering(
  path: string,
  a: { readonly region: string; readonly cidr: string },
  b: { readonly region: string; readonly cidr: string },
): void {
  if (a.region === b.region) fail(path, `both sides are in ${a.region}`);
  if (a.cidr === b.cidr) fail(path, `both VPCs use ${a.cidr}; peered CIDRs must not overlap`);
}
