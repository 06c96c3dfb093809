// constructs/model/urls.ts: the one place connection URLs are built. What a client decodes from
// each URL must be exactly the parts given, whatever characters a password holds.
import { describe, expect, it } from 'vitest';
import { Encoded, amqpUrl, httpUrl, kafkaBootstrap, postgresUrl, redisUrl } from '../../constructs/model/urls.js';

const awkward = 'p@ss:w/rd?#%+ é';

describe('connection URLs', () => {
  it('postgres: user, password and database come back decoded as given; params are libpq-safe', () => {
    const url = new URL(
      postgresUrl({
        host: '127.0.0.1',
        port: 5432,
        user: 'learner',
        password: awkward,
        database: 'lab db',
        params: { sslmode: 'require', application_name: 'a b' },
      }),
    );
    expect([decodeURIComponent(url.username), decodeURIComponent(url.password), decodeURIComponent(url.pathname.slice(1))]).toEqual([
      'learner',
      awkward,
      'lab db',
    ]);
    // `+` means a plus to libpq, never a space: spaces are %20.
    expect(url.search).toBe('?sslmode=require&application_name=a%20b');
    expect(postgresUrl({ host: 'db', port: 5432, user: 'learner', database: 'lab' })).toBe('postgres://learner@db:5432/lab');
  });

  it('redis: the `default` user is always written with a password (redis-cli 7 refuses `redis://:pw@`)', () => {
    expect(redisUrl({ host: '127.0.0.1', port: 6379, password: 'pw' })).toBe('redis://default:pw@127.0.0.1:6379');
    expect(redisUrl({ host: '127.0.0.1', port: 6379 })).toBe('redis://127.0.0.1:6379');
    expect(redisUrl({ host: 'cache', port: 6379, password: 'pw', tls: true })).toBe('rediss://default:pw@cache:6379');
    expect(decodeURIComponent(new URL(redisUrl({ host: 'h', port: 1, password: awkward })).password)).toBe(awkward);
  });

  it('amqp: the vhost is one path segment (`/` is %2F), amqps with tls', () => {
    expect(amqpUrl({ host: 'mq', port: 5672, user: 'learner', password: 'pw', vhost: 'lab' })).toBe('amqp://learner:pw@mq:5672/lab');
    expect(amqpUrl({ host: 'mq', port: 5671, user: 'learner', vhost: '/', tls: true })).toBe('amqps://learner@mq:5671/%2F');
  });

  it('kafka: a bootstrap list as kcat -b takes it; IPv6 hosts in brackets everywhere', () => {
    expect(
      kafkaBootstrap([
        { host: '127.0.0.1', port: 9092 },
        { host: '::1', port: 9093 },
      ]),
    ).toBe('127.0.0.1:9092,[::1]:9093');
    expect(httpUrl({ host: '::1', port: 8080, path: '/health' })).toBe('http://[::1]:8080/health');
  });

  it('an Encoded part (a Terraform urlencode() expression) is written as is', () => {
    expect(postgresUrl({ host: '${h}', port: 5432, user: 'learner', password: new Encoded('${urlencode(p)}'), database: 'lab' })).toBe(
      'postgres://learner:${urlencode(p)}@${h}:5432/lab',
    );
  });
});
