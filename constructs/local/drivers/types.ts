// The plug-in shape of the local runtime: one driver per component kind, registered in
// drivers/index.ts. lab.ts only orchestrates (plan, start in dependency order, probe, stop,
// verify); everything that knows a server lives in its driver and its building block file.
import type { ProbeResult, RetryPolicy } from '../../../health/index.js';
import type { Component, LabSpec } from '../../model/types.js';
import type { ComponentKindLocal, ComponentState, LabLayout, LabSecrets, RunAs } from '../home.js';
import type { RunContext } from './context.js';
import type { NamedLink, NamedPort, NamedProcess } from './parts.js';

export type { NamedLink, NamedPort, NamedProcess } from './parts.js';

export type Outcome = 'running' | 'started' | 'restarted';

/** What a driver gets to turn LabSpec components into ComponentStates. */
export interface PlanContext {
  readonly lab: LabSpec;
  readonly layout: LabLayout;
  /** A free port on `host`, never one already given out in this lab or recorded by another lab of the home. */
  port(host: string): Promise<number>;
  /** The address a component listens on: 127.0.0.1, or 127.0.(r+1).1 for region r. */
  host(region?: number): string;
  /** Loopback regions of this lab: 1 for every level but expert (2 or 3). */
  readonly regions: number;
  /** One-way delay of the links between regions, in ms. */
  readonly latencyMs: number;
  /** Log file of a component id, inside the lab. */
  logFile(id: string): string;
  /** Directory of a component id, inside the lab. */
  dir(id: string): string;
  /** RabbitMQ runs its management plugin on an extra port `management` (`up --rabbitmq-management`). */
  readonly rabbitmqManagement: boolean;
}

/** What a probe may read: the lab's credentials and its other components (a load balancer needs its backends). */
export interface ProbeEnv {
  /** The lab's name (RabbitMQ's node is named after it). */
  readonly lab: string;
  readonly secrets: LabSecrets;
  readonly components: readonly ComponentState[];
}

/**
 * One local component kind. Adding a kind (kafka, replica, proxy) is one new driver file, its
 * kind in home.ts LOCAL_KINDS and one line in the DRIVERS table.
 */
export interface ComponentDriver<S extends Component = Component> {
  readonly kind: ComponentKindLocal;
  /** Binaries `up` needs before anything is created (doctor lists them with their package). */
  readonly binaries: readonly string[];
  /**
   * Kinds it uses but connects to lazily: it may start while they are still starting (the API
   * opens its AMQP connection at the first job). Health and stop order still follow `uses`.
   * @default none
   */
  readonly lazy?: readonly ComponentKindLocal[];
  /** The LabSpec components this driver runs (empty: the lab does not need it, nor its binaries). */
  select(lab: LabSpec): readonly S[];
  /** The ComponentStates of one of them: one, or one per instance (api-1..api-3). */
  plan(p: PlanContext, spec: S): Promise<ComponentState[]>;
  /** Secrets a new lab generates for these components. */
  secrets?(planned: readonly ComponentState[]): Partial<LabSecrets>;
  /** Makes it run: nothing when it runs, restart on its data when it died, build when new. */
  ensure(ctx: RunContext, c: ComponentState): Promise<Outcome>;
  /**
   * Probe even when some of its processes are gone (Kafka: one dead broker of three is a degraded
   * cluster, which the probe describes, not a component that is down). @default false
   */
  readonly probeWhenPartial?: boolean;
  /** Real protocol round trips through its endpoint (one or more checks). */
  probe(c: ComponentState, env: ProbeEnv, policy: RetryPolicy): Promise<ProbeResult[]>;
  /** Every process it runs, main first. */
  processes(c: ComponentState): NamedProcess[];
  /** Every host:port it listens on (what `down` proves free). */
  ports(c: ComponentState): NamedPort[];
  /** Stops all its processes; returns the pids still alive. */
  stop(c: ComponentState, runAs: RunAs): Promise<number[]>;
  /** How a learner connects, never with a password in it. */
  url(c: ComponentState): string;
  /** The same with the password, for `labforge secrets` and for the components that use it. */
  readonly secretUrl?: (c: ComponentState, secrets: LabSecrets) => string;
  /** Further addresses a learner opens, by name (RabbitMQ's management UI), never with a password. @default none */
  links?(c: ComponentState): NamedLink[];
}
