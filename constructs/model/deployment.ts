// A deployment is a lab spec plus the user's choices (name, owner, regions, expiry, CIDR),
// validated once here so every engine receives the same resolved values.
import { userInfo } from 'node:os';
import { parseBackend, type StateBackend } from './backend.js';
import { UsageError } from './errors.js';
import { parseCidr, parseLabName, parseOwner, parseRegions, parseTtl } from './options.js';
import type { LabSpec } from './types.js';

export const DEFAULT_TTL = '4h';

export interface LabDeployment {
  /** Lab instance name: `beginner`, `w-p01`, ... */
  readonly name: string;
  readonly lab: LabSpec;
  readonly owner: string;
  /** ISO-8601 UTC instant after which `reap`/`sweep` may remove the lab. */
  readonly expiresAt: string;
  /** Cloud regions, first one primary. */
  readonly regions: readonly string[];
  /** Where SSH and database ports may be reached from; undefined opens nothing. */
  readonly allowCidr?: string;
  /** aws: where the Terraform state lives; undefined: the lab's directory. */
  readonly backend?: StateBackend;
}

export interface DeploymentOptions {
  readonly name?: string;
  readonly owner?: string;
  readonly ttl?: string;
  /** Comma-separated AWS regions. */
  readonly regions?: string;
  readonly allowCidr?: string;
  /** `local` or `s3://bucket/prefix[?region=r]`. */
  readonly backend?: string;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** The current OS user, made safe for tags; `labforge` when it has odd characters. */
export function defaultOwner(): string {
  const name = userInfo().username.replace(/[^a-zA-Z0-9._@-]/g, '');
  return name.length > 0 ? name.slice(0, 63) : 'labforge';
}

/** The instant `ttl` (e.g. `4h`, `2d`) after `now`, ISO-8601 UTC to the second: an expiry. */
export function expiryAfter(ttl: string, now = new Date()): string {
  return new Date(now.getTime() + parseTtl(ttl)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function resolveDeployment(lab: LabSpec, options: DeploymentOptions = {}): LabDeployment {
  const name = parseLabName(options.name ?? lab.level);
  const owner = parseOwner(options.owner ?? defaultOwner());
  const listed = options.regions !== undefined ? parseRegions(options.regions, lab.regions.min) : [...lab.regions.default];
  // Single-region levels are built in the first region listed (so `synth all --regions a,b` works).
  const regions = lab.regions.default.length === 1 ? listed.slice(0, 1) : listed;
  const allowCidr = options.allowCidr !== undefined ? parseCidr(options.allowCidr) : undefined;
  if (regions.length > 4) throw new UsageError(`--regions lists ${regions.length} regions; labs support at most 4`);
  const expiresAt = expiryAfter(options.ttl ?? DEFAULT_TTL, options.now);
  const backend = options.backend !== undefined ? parseBackend(options.backend) : undefined;
  return { name, lab, owner, expiresAt, regions, allowCidr, ...(backend ? { backend } : {}) };
}
