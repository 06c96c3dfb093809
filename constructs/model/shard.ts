// Sharding rules of the Expert lab, pure and small enough to print in the lab guide.
//
// Routing: a row with key K lives on shard
//
//     shardFor(K, S) = (first 4 bytes of md5(UTF-8 bytes of K), read big-endian unsigned) mod S
//
// md5 is used for spread, not for security: it is built into every language and into
// PostgreSQL itself, so the same rule can be checked in SQL without an extension:
//
//     SELECT ('x' || substr(md5('user-42'), 1, 8))::bit(32)::bigint % 2;
//
// Placement: with R regions, shard s has its primary in region s mod R and its streaming replica
// in the next region, (s + 1) mod R, so losing one region never loses a shard.
//
// Regions on one machine: region r uses the loopback range 127.0.(r+1).0/24 (all of 127/8 is
// loopback on Linux), its servers listen on 127.0.(r+1).1.
import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';

/** Most regions a lab can have: one /24 of 127.0.0.0/8 each, 127.0.1.0 to 127.0.254.0. */
export const MAX_REGIONS = 254;

function positiveInt(where: string, name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`${where}: ${name} must be an integer from 1 to ${max}, got ${value}`);
  }
}

/** The unsigned 32-bit hash the routing uses: the first 4 bytes of md5(key), big-endian. */
export function shardHash(key: string): number {
  return createHash('md5').update(key, 'utf8').digest().readUInt32BE(0);
}

/** The shard (0 .. shards-1) that holds `key`. Stable across runs, machines and languages. */
export function shardFor(key: string, shards: number): number {
  positiveInt('shardFor', 'shards', shards);
  return shardHash(key) % shards;
}

/** Where one shard runs: its primary's region and its replica's region (always different). */
export interface ShardPlacement {
  readonly shard: number;
  readonly primaryRegion: number;
  readonly replicaRegion: number;
}

/** Placement of every shard over `regions` regions (at least 2: a replica needs another region). */
export function shardPlacement(shards: number, regions: number): ShardPlacement[] {
  positiveInt('shardPlacement', 'shards', shards, 64);
  positiveInt('shardPlacement', 'regions', regions, MAX_REGIONS);
  if (regions < 2) throw new ValidationError(`shardPlacement: regions must be >= 2 so a replica lives in another region, got ${regions}`);
  return Array.from({ length: shards }, (_, shard) => ({
    shard,
    primaryRegion: shard % regions,
    replicaRegion: (shard + 1) % regions,
  }));
}

/** The loopback address servers of region `region` listen on: 127.0.(region+1).1. */
export function regionAddress(region: number): string {
  if (!Number.isInteger(region) || region < 0 || region >= MAX_REGIONS) {
    throw new ValidationError(`regionAddress: region must be an integer from 0 to ${MAX_REGIONS - 1}, got ${region}`);
  }
  return `127.0.${region + 1}.1`;
}

/** The region's address range in CIDR form, for pg_hba.conf: 127.0.(region+1).0/24. */
export function regionRange(region: number): string {
  return `${regionAddress(region).replace(/\.1$/, '.0')}/24`;
}
