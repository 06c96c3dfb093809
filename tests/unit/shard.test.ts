// The Expert lab's routing rule and placement: stable values (the lab guide prints them), an even
// spread, and every replica in another region than its primary.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../constructs/model/errors.js';
import { regionAddress, regionRange, shardFor, shardHash, shardPlacement } from '../../constructs/model/shard.js';

describe('shardFor', () => {
  it('gives the same known values on every run and machine', () => {
    // Also what PostgreSQL computes: SELECT ('x' || substr(md5(key), 1, 8))::bit(32)::bigint
    expect(shardHash('user-1')).toBe(3604443219);
    expect(shardHash('user-42')).toBe(1982970887);
    expect(shardHash('alice')).toBe(1669653170);
    expect(shardHash('')).toBe(3558706393);
    expect(['user-1', 'user-42', 'alice', ''].map((k) => shardFor(k, 2))).toEqual([1, 1, 0, 1]);
    expect(['user-1', 'user-42', 'alice', ''].map((k) => shardFor(k, 3))).toEqual([0, 2, 2, 1]);
  });

  it('is the documented rule: first 4 bytes of md5, big-endian unsigned, mod shards', () => {
    for (const key of ['order-7', 'Zoë', '🙂 emoji', 'a'.repeat(1000)]) {
      const byHand = parseInt(createHash('md5').update(key, 'utf8').digest('hex').slice(0, 8), 16);
      expect(shardFor(key, 5)).toBe(byHand % 5);
    }
  });

  it.each([2, 3, 4])('spreads 10k keys evenly over %i shards (each within ±5% of its share)', (shards) => {
    const counts = new Array<number>(shards).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardFor(`user-${i}`, shards)]!++;
    const share = 10_000 / shards;
    for (const count of counts) expect(Math.abs(count - share) / share).toBeLessThanOrEqual(0.05);
  });

  it('rejects a shard count that is not a positive integer', () => {
    expect(() => shardFor('k', 0)).toThrow(ValidationError);
    expect(() => shardFor('k', 1.5)).toThrow(/shards must be an integer/);
  });
});

describe('shardPlacement', () => {
  it.each([
    [2, 2],
    [4, 2],
    [3, 3],
    [5, 3],
  ])('%i shards over %i regions: every replica in another region than its primary', (shards, regions) => {
    const placement = shardPlacement(shards, regions);
    expect(placement).toHaveLength(shards);
    for (const p of placement) {
      expect(p.replicaRegion).not.toBe(p.primaryRegion);
      expect(p.primaryRegion).toBe(p.shard % regions);
      expect(p.replicaRegion).toBeGreaterThanOrEqual(0);
      expect(p.replicaRegion).toBeLessThan(regions);
    }
  });

  it('spreads primaries over all regions when there are at least as many shards', () => {
    expect(new Set(shardPlacement(3, 3).map((p) => p.primaryRegion)).size).toBe(3);
  });

  it('puts shard 0 in region 0 with its replica in region 1 (the default lab)', () => {
    expect(shardPlacement(2, 2)).toEqual([
      { shard: 0, primaryRegion: 0, replicaRegion: 1 },
      { shard: 1, primaryRegion: 1, replicaRegion: 0 },
    ]);
  });

  it('needs two regions', () => {
    expect(() => shardPlacement(2, 1)).toThrow(/regions must be >= 2/);
  });
});

describe('region addresses', () => {
  it('maps region r to 127.0.(r+1).1 and its /24', () => {
    expect(regionAddress(0)).toBe('127.0.1.1');
    expect(regionAddress(1)).toBe('127.0.2.1');
    expect(regionRange(1)).toBe('127.0.2.0/24');
    expect(() => regionAddress(254)).toThrow(ValidationError);
  });
});
