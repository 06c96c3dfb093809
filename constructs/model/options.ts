// Validation of what users pass on the command line. Each check throws a UsageError whose one
// line names the bad value and what would be accepted.
import { UsageError, choiceError } from './errors.js';
import { LEVELS, TARGETS, type Level, type Target } from './types.js';

/** AWS commercial regions labforge prices and tests against. */
export const AWS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
] as const;

export function parseLevel(value: string): Level {
  if ((LEVELS as readonly string[]).includes(value)) return value as Level;
  throw choiceError('level', value, LEVELS);
}

export function parseTarget<T extends Target = Target>(value: string, allowed: readonly T[] = TARGETS as unknown as readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw choiceError('target', value, allowed);
}

/** `us-east-1,eu-west-1` -> validated, de-duplicated list. */
export function parseRegions(value: string, min = 1): string[] {
  const regions = value
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  for (const region of regions) {
    if (!(AWS_REGIONS as readonly string[]).includes(region)) throw choiceError('region', region, AWS_REGIONS);
  }
  const unique = [...new Set(regions)];
  if (unique.length !== regions.length) throw new UsageError(`--regions lists a region twice: '${value}'`);
  if (unique.length < min) {
    throw new UsageError(`--regions '${value}' gives ${unique.length} region(s); this level needs at least ${min}`);
  }
  return unique;
}

/** IPv4 CIDR like 203.0.113.7/32. The whole internet is refused: labs never open to the world. */
export function parseCidr(value: string, field = '--allow-cidr'): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = match ? Number(match[5]) : -1;
  if (!match || octets.some((o) => o > 255) || prefix > 32) {
    throw new UsageError(`bad ${field} '${value}' (expected an IPv4 CIDR such as 203.0.113.7/32)`);
  }
  if (prefix < 8) {
    throw new UsageError(`${field} '${value}' is too wide (prefix /${prefix}); labs never open to the world, use /8 or narrower`);
  }
  return value;
}

const TTL_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longest lifetime a lab may be given: a week. Forgotten labs cost money. */
export const MAX_TTL_MS = 7 * TTL_UNITS.d!;

/** `90m`, `4h`, `2d` -> milliseconds. */
export function parseTtl(value: string): number {
  const match = /^(\d+)(m|h|d)$/.exec(value);
  if (!match) throw new UsageError(`bad --ttl '${value}' (expected a duration such as 90m, 4h or 2d)`);
  const ms = Number(match[1]) * TTL_UNITS[match[2]!]!;
  if (ms <= 0) throw new UsageError(`bad --ttl '${value}' (must be longer than zero)`);
  if (ms > MAX_TTL_MS) throw new UsageError(`--ttl '${value}' is longer than the 7d maximum`);
  return ms;
}

/** Owner goes into tags and names: keep it to what every AWS tag and name accepts. */
export function parseOwner(value: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,62}$/.test(value)) {
    throw new UsageError(`bad --owner '${value}' (1-63 characters: letters, digits, '.', '_', '@', '-')`);
  }
  return value;
}

/** Lab names become process names, directories and cloud resource names. */
export function parseLabName(value: string): string {
  if (!/^[a-z][a-z0-9-]{0,23}$/.test(value) || value.endsWith('-') || value.includes('--')) {
    throw new UsageError(`bad lab name '${value}' (1-24 characters: lowercase letters, digits and single '-', starting with a letter)`);
  }
  return value;
}

/** A positive whole number option such as --participants or --hours. */
export function parsePositiveInt(field: string, value: unknown, max = 10_000): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`bad ${field} '${String(value)}' (expected a whole number from 1 to ${max})`);
  }
  return n;
}

export function parsePositiveNumber(field: string, value: unknown, max = 10_000): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new UsageError(`bad ${field} '${String(value)}' (expected a number above 0 and up to ${max})`);
  }
  return n;
}

/** A wait such as `90s` or `5m`, 1 s to 1 h, in ms. */
export function parseDuration(field: string, value: string): number {
  const match = /^(\d+)(s|m)$/.exec(value);
  const ms = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 60_000) : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000)) throw new UsageError(`bad ${field} '${value}' (expected 1s to 60m, e.g. 90s or 5m)`);
  return ms;
}
