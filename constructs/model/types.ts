// The lab model: typed data shared by every engine. Nothing here knows about cdktf, Pulumi,
// Kubernetes or local processes; engines read these types and render them.

export const LEVELS = ['beginner', 'intermediate', 'advanced', 'expert'] as const;
export type Level = (typeof LEVELS)[number];

export const TARGETS = ['local', 'aws', 'k8s', 'pulumi'] as const;
export type Target = (typeof TARGETS)[number];

export const COMPONENT_KINDS = [
  'network',
  'vm',
  'postgres',
  'redis',
  'rabbitmq',
  'kafka',
  'kubernetes-cluster',
  'load-balancer',
  'service',
  'bucket',
  'registry',
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

interface ComponentBase {
  /** Unique within the lab, lowercase, used in physical names (`db`, `cache`, `api`). */
  readonly id: string;
  /** One line a learner reads in `labforge show`. */
  readonly description: string;
}

export interface NetworkComponent extends ComponentBase {
  readonly kind: 'network';
  /** Availability zones the subnets span. */
  readonly azs: number;
  /** Private subnets (one per AZ) behind a NAT gateway, for managed databases and nodes. */
  readonly privateSubnets: boolean;
}

export interface VmComponent extends ComponentBase {
  readonly kind: 'vm';
  /** EC2 instance type. */
  readonly instanceType: string;
  /** Root volume size in GiB (always encrypted). */
  readonly diskGb: number;
  /** What cloud-init prepares on the VM. */
  readonly role: 'postgres-host' | 'app-host';
}

export interface PostgresComponent extends ComponentBase {
  readonly kind: 'postgres';
  /** Major version of PostgreSQL. */
  readonly version: string;
  /** Id of the `vm` that hosts the server; absent means a managed database (RDS). */
  readonly hostVm?: string;
  /** Shard primaries (1 = not sharded). */
  readonly shards: number;
  /** Streaming replicas per shard (in another region when the lab has several). */
  readonly replicas: number;
  /** RDS instance class for managed databases. */
  readonly instanceClass: string;
  /** Allocated storage in GiB for managed databases. */
  readonly storageGb: number;
  /** Database the learner works in. */
  readonly database: string;
  /** Role the learner logs in as. */
  readonly user: string;
}

export interface RedisComponent extends ComponentBase {
  readonly kind: 'redis';
  /** ElastiCache node type. */
  readonly nodeType: string;
}

export interface RabbitmqComponent extends ComponentBase {
  readonly kind: 'rabbitmq';
  /** Amazon MQ host instance type. */
  readonly instanceType: string;
  /** Virtual host the learner uses. */
  readonly vhost: string;
  readonly user: string;
}

export interface KafkaComponent extends ComponentBase {
  readonly kind: 'kafka';
  /** Brokers per cluster (per region in the cloud; in total locally). */
  readonly brokers: number;
  /** MSK broker instance type. */
  readonly instanceType: string;
  /** Topics created for the lab, with replication factor = min(brokers, 3). */
  readonly topics: readonly string[];
}

export interface KubernetesClusterComponent extends ComponentBase {
  readonly kind: 'kubernetes-cluster';
  readonly version: string;
  readonly nodeInstanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly desiredNodes: number;
}

export interface LoadBalancerComponent extends ComponentBase {
  readonly kind: 'load-balancer';
  /** Id of the `service` whose instances it balances. */
  readonly target: string;
  readonly algorithm: 'roundrobin' | 'leastconn';
  /** Latency-based DNS across regions (expert). */
  readonly globalDns: boolean;
}

export interface ServiceComponent extends ComponentBase {
  readonly kind: 'service';
  /** Which program from templates/ runs: the starter REST API or the queue worker. */
  readonly program: 'api' | 'worker';
  /** Instances (per region when the lab has several). */
  readonly instances: number;
  /** Port the program listens on (api only; 0 for a worker). */
  readonly port: number;
  /** Ids of the components this service connects to. */
  readonly uses: readonly string[];
}

export interface BucketComponent extends ComponentBase {
  readonly kind: 'bucket';
  /** What the bucket holds, e.g. `uploads`. */
  readonly purpose: string;
}

export interface RegistryComponent extends ComponentBase {
  readonly kind: 'registry';
  /** One container image repository per name. */
  readonly repositories: readonly string[];
}

export type Component =
  | NetworkComponent
  | VmComponent
  | PostgresComponent
  | RedisComponent
  | RabbitmqComponent
  | KafkaComponent
  | KubernetesClusterComponent
  | LoadBalancerComponent
  | ServiceComponent
  | BucketComponent
  | RegistryComponent;

/** The component of a given kind, narrowed. */
export type ComponentOf<K extends ComponentKind> = Extract<Component, { kind: K }>;

export interface OutputSpec {
  readonly name: string;
  readonly description: string;
  /** Secret values are marked sensitive and never printed unless asked for. */
  readonly sensitive: boolean;
}

export interface Exercise {
  /** Stable id, e.g. `beginner-crud`. */
  readonly id: string;
  readonly title: string;
  /** The seed's example task this exercise makes concrete (verbatim), if any. */
  readonly task?: string;
  /** Indexes into LabSpec.skills that this exercise practises. */
  readonly skills: readonly number[];
  /** Concrete steps for the lab that is up. */
  readonly steps: readonly string[];
}

export interface LabSpec {
  readonly level: Level;
  readonly title: string;
  readonly summary: string;
  /** Every skill line of the level in the seed, verbatim. */
  readonly skills: readonly string[];
  /** Every example task of the level in the seed, verbatim. */
  readonly exampleTasks: readonly string[];
  readonly components: readonly Component[];
  /** Cloud regions: how many by default and the default list. */
  readonly regions: { readonly min: number; readonly default: readonly string[] };
  readonly outputs: readonly OutputSpec[];
  readonly exercises: readonly Exercise[];
}
