// Where an aws lab's Terraform state lives: beside its stacks in the lab's directory (the default),
// or in an S3 bucket the user names (`--backend s3://bucket/prefix`), so a lab can be handled from
// another machine and its state survives the laptop. One object per stack:
// `<prefix>/<lab>/<stack>.tfstate`, encrypted, locked with S3's own lock file.
import { UsageError } from './errors.js';
import { AWS_REGIONS } from './options.js';

export interface S3StateBackend {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key prefix without slashes at either end; '' for the bucket's root. */
  readonly prefix: string;
  /** The bucket's region; undefined: the lab's first region. */
  readonly region?: string;
}

/** undefined is the default: the state files in the lab's directory. */
export type StateBackend = S3StateBackend | undefined;

const FORMS = "'local' or 's3://<bucket>[/<prefix>][?region=<region>]'";

// S3's rules for new buckets: 3-63 lowercase letters, digits, dots and hyphens, alphanumeric at both ends.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseBackend(value: string): StateBackend {
  const spec = value.trim();
  if (spec === 'local') return undefined;
  const match = /^s3:\/\/([^/?]+)((?:\/[^?]*)?)(?:\?(.*))?$/.exec(spec);
  if (!match) throw new UsageError(`bad --backend '${value}' (valid: ${FORMS})`);
  const [, bucket, path, query] = match as unknown as [string, string, string, string | undefined];
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new UsageError(
      `bad --backend bucket '${bucket}' (valid: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-labforge-state)`,
    );
  const prefix = path.replace(/^\/+|\/+$/g, '');
  if (/\/\/|[^A-Za-z0-9!_.*'()/-]/.test(prefix))
    throw new UsageError(
      `bad --backend prefix '${prefix}' (valid: key segments of letters, digits and !_.*'()- separated by single slashes)`,
    );
  let region: string | undefined;
  for (const pair of query ? query.split('&') : []) {
    const [key, val = ''] = pair.split('=');
    if (key !== 'region') throw new UsageError(`bad --backend option '${key}' in '${value}' (valid: region)`);
    if (!(AWS_REGIONS as readonly string[]).includes(val))
      throw new UsageError(`bad --backend region '${val}' (valid: ${AWS_REGIONS.join(', ')})`);
    region = val;
  }
  return { kind: 's3', bucket, prefix, ...(region ? { region } : {}) };
}

/** The key of one stack's state object. */
export function stateKey(backend: S3StateBackend, lab: string, stack: string): string {
  return [backend.prefix, lab, `${stack}.tfstate`].filter(Boolean).join('/');
}

/** The bucket's region: the one named, else the lab's first. */
export function backendRegion(backend: S3StateBackend, regions: readonly string[]): string {
  return backend.region ?? regions[0]!;
}

/** `s3://bucket/prefix/<lab>/` for messages, or the lab directory's stacks. */
export function describeBackend(backend: StateBackend, lab: string): string {
  if (backend === undefined) return 'local (tf/stacks/<stack>/terraform.tfstate in the lab directory)';
  return `s3://${backend.bucket}/${[backend.prefix, lab].filter(Boolean).join('/')}/`;
}

/** Same place: a lab keeps the backend it was made with. */
export function sameBackend(a: StateBackend, b: StateBackend): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
