// The expert lab's local rules: the API's JS routing rule agrees with the model's TS one, the
// options are validated with one-line usage errors, chaos actions parse strictly, and the Kafka
// config advertises one listener per remote region.
import { describe, expect, it } from 'vitest';
import { parseChaosAction } from '../../constructs/model/chaos.js';
import { linkId, parseLatency, parseRegionCount, shardServerId } from '../../constructs/local/expert.js';
import { nodesOf, renderServerProperties, resolveProps } from '../../constructs/local/kafka-config.js';
import { UsageError, ValidationError } from '../../constructs/model/errors.js';
import { shardFor } from '../../constructs/model/shard.js';
import { shardFor as shardForJs, endpointOf } from '../../templates/api/lib/shards.mjs';

describe('the API routing rule (templates/api/lib/shards.mjs)', () => {
  it('agrees with constructs/model/shard.ts on 5000 keys for 2, 3 and 5 shards', () => {
    for (const shards of [2, 3, 5]) {
      for (let i = 0; i < 5000; i++) {
        const key = i % 7 === 0 ? `Zoë-${i}@example.com` : `user${i}@example.com`;
        expect(shardForJs(key, shards)).toBe(shardFor(key, shards));
      }
    }
  });

  it('names a primary by host:port only, never with the password', () => {
    expect(endpointOf('postgres://learner:s3cret@127.0.2.1:40001/lab')).toBe('127.0.2.1:40001');
  });
});

describe('expert options', () => {
  it('accepts 2..3 regions and 0..1000 ms', () => {
    expect(parseRegionCount('2')).toBe(2);
    expect(parseRegionCount(3)).toBe(3);
    expect(parseLatency('0')).toBe(0);
    expect(parseLatency('1000')).toBe(1000);
  });

  it.each([['5'], ['1'], ['two'], ['2.5'], ['']])('rejects --regions %j naming the value and the range', (value) => {
    expect(() => parseRegionCount(value)).toThrow(UsageError);
    expect(() => parseRegionCount(value)).toThrow(`--regions must be an integer from 2 to 3 for a local lab, got '${value}'`);
  });

  it.each([['-1'], ['1001'], ['fast']])('rejects --latency-ms %j', (value) => {
    expect(() => parseLatency(value)).toThrow(`--latency-ms must be an integer from 0 to 1000, got '${value}'`);
  });

  it('names components by shard and region, links by the client region', () => {
    expect(shardServerId(1, 0)).toBe('db-s1-r0');
    expect(linkId(1, 'db-s0-r0')).toBe('link-r1-db-s0-r0');
  });
});

describe('chaos actions', () => {
  it('parses each action with its argument', () => {
    expect(parseChaosAction('kill-primary', '0')).toEqual({ action: 'kill-primary', shard: 0 });
    expect(parseChaosAction('kill-broker', '2')).toEqual({ action: 'kill-broker', broker: 2 });
    expect(parseChaosAction('partition', '1')).toEqual({ action: 'partition', region: 1 });
    expect(parseChaosAction('heal', undefined)).toEqual({ action: 'heal' });
  });

  it('refuses unknown actions and missing or bad arguments with the valid choices', () => {
    expect(() => parseChaosAction('explode', '1')).toThrow(
      "unknown chaos action 'explode' (valid: kill-primary, kill-broker, partition, heal)",
    );
    expect(() => parseChaosAction('kill-primary', undefined)).toThrow(UsageError);
    expect(() => parseChaosAction('partition', '-1')).toThrow(UsageError);
    expect(() => parseChaosAction('heal', '1')).toThrow(UsageError);
  });
});

describe('Kafka region listeners', () => {
  const runAs = { user: 'x', uid: 1000, gid: 1000, mode: 'current-user' as const };
  const props = resolveProps({
    dir: '/tmp/k',
    runAs,
    host: '127.0.1.1',
    nodes: [
      { client: 10001, controller: 10002 },
      { client: 10003, controller: 10004 },
    ],
    regionListeners: [
      {
        name: 'REGION1',
        nodes: [
          { bind: 10005, advertisedHost: '127.0.2.1', advertisedPort: 20001 },
          { bind: 10006, advertisedHost: '127.0.2.1', advertisedPort: 20002 },
        ],
      },
    ],
  });

  it('binds on the Kafka host and advertises the link in the client region', () => {
    const nodes = nodesOf(props);
    const second = renderServerProperties(props, nodes[1]!, nodes);
    expect(second).toMatch(
      /^listeners=PLAINTEXT:\/\/127\.0\.1\.1:10003,CONTROLLER:\/\/127\.0\.1\.1:10004,REGION1:\/\/127\.0\.1\.1:10006$/m,
    );
    expect(second).toMatch(/^advertised\.listeners=PLAINTEXT:\/\/127\.0\.1\.1:10003,REGION1:\/\/127\.0\.2\.1:20002$/m);
    expect(second).toMatch(/^listener\.security\.protocol\.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,REGION1:PLAINTEXT$/m);
    expect(second).toMatch(/^inter\.broker\.listener\.name=PLAINTEXT$/m);
  });

  it('refuses a listener without one entry per node, or a port given twice', () => {
    expect(() => resolveProps({ ...props, regionListeners: [{ name: 'REGION1', nodes: [] }] })).toThrow(ValidationError);
    expect(() =>
      resolveProps({
        ...props,
        regionListeners: [
          {
            name: 'REGION1',
            nodes: [
              { bind: 10001, advertisedHost: '127.0.2.1', advertisedPort: 1 },
              { bind: 10009, advertisedHost: '127.0.2.1', advertisedPort: 2 },
            ],
          },
        ],
      }),
    ).toThrow('port 10001 is given twice');
  });
});
