// The driver table: one entry per local component kind. The order is the planning order (and
// the order of the state file, `status` and `health`); start order comes from `uses`.
import type { ComponentKindLocal, ComponentState } from '../home.js';
import { apiDriver } from './api.js';
import { consumerDriver } from './consumer.js';
import { haproxyDriver } from './haproxy.js';
import { kafkaDriver } from './kafka.js';
import { proxyDriver } from './proxy.js';
import { postgresDriver } from './postgres.js';
import { rabbitmqDriver } from './rabbitmq.js';
import { redisDriver } from './redis.js';
import { shardDriver } from './shard.js';
import type { ComponentDriver } from './types.js';
import { workerDriver } from './worker.js';

export const DRIVERS: Readonly<Record<ComponentKindLocal, ComponentDriver>> = {
  postgres: postgresDriver,
  shard: shardDriver,
  kafka: kafkaDriver,
  proxy: proxyDriver,
  redis: redisDriver,
  rabbitmq: rabbitmqDriver,
  api: apiDriver,
  worker: workerDriver,
  consumer: consumerDriver,
  haproxy: haproxyDriver,
};

export function driverOf(c: Pick<ComponentState, 'kind'>): ComponentDriver {
  return DRIVERS[c.kind];
}

export { RunContext, labelOf } from './context.js';
export type { ComponentDriver, NamedLink, NamedPort, NamedProcess, Outcome, PlanContext, ProbeEnv } from './types.js';
