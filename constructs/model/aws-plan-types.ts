// The types of the AWS plan (built by aws-plan.ts): what each element of a lab is, where it goes
// and what it is called. Reading these tells the whole contract between the model and the two
// AWS engines: literal settings as plain data, engine references only as refs.
import type { IngressRule, Source } from './aws-plan-ingress.js';
import type { PlanValue, Ref, UserDataPlan } from './aws-plan-values.js';
import type { Level } from './types.js';

/** Where a planned element is and what it is called in both engines. */
export interface Placed {
  /** `<lab>/<region>/<id>`: where errors say the element is. */
  readonly path: string;
  /** Unique within its region: the cdktf construct id inside the region's scope. */
  readonly id: string;
  /** Unique within the lab (the id, after the region code for what every region has): refs name it, Pulumi names `<lab>-<uid>`. */
  readonly uid: string;
  /** Index into the plan's regions: whose provider creates it. */
  readonly region: number;
}

export interface AwsPlan {
  /** Lab instance name: the first part of every path. */
  readonly lab: string;
  readonly level: Level;
  /** The four labforge tags: provider default tags, and on what EKS and EC2 launch themselves. */
  readonly tags: Readonly<Record<string, string>>;
  /** The lab's regions, the first one primary. */
  readonly regions: readonly RegionPlan[];
  /** Customer-managed keys, one per region that encrypts anything with it. */
  readonly kmsKeys: readonly KmsKeyPlan[];
  /** Generated passwords, each kept in an SSM parameter of the primary region. */
  readonly secrets: readonly SecretPlan[];
  /** The VMs' security groups: created first, data services admit them as clients. */
  readonly vmSecurityGroups: readonly SecurityGroupPlan[];
  /** EKS's cluster and node roles (global, once per lab); absent without a cluster. */
  readonly eksRoles?: GlobalPlan & { readonly name: string };
  readonly clusters: readonly ClusterPlan[];
  /** Managed PostgreSQL: one primary per shard, each with its replicas. */
  readonly databases: readonly DatabasePlan[];
  readonly redis: readonly RedisPlan[];
  readonly rabbitmq: readonly RabbitmqPlan[];
  /** MSK, one cluster per region. */
  readonly kafka: readonly KafkaPlan[];
  readonly buckets: readonly BucketPlan[];
  readonly registries: readonly RegistryPlan[];
  readonly vms: readonly VmPlan[];
  /** Latency-routed DNS over every region (global). */
  readonly dns: readonly DnsPlan[];
  /** Every pair of regions, peered (labs with private subnets). */
  readonly peerings: readonly PeeringPlan[];
  /** The LabSpec's outputs, in its order, each with its value. */
  readonly outputs: readonly OutputPlan[];
  /** Per EKS cluster: name, endpoint and CA, what the `<lab>-k8s` stack configures its provider from. */
  readonly clusterOutputs: readonly OutputPlan[];
}

export interface RegionPlan {
  /** AWS region, e.g. `us-east-1`. */
  readonly region: string;
  /** Position in the lab's regions; 0 is the primary. */
  readonly index: number;
  /** Short code used in names: `use1`. */
  readonly code: string;
  /** Provider alias when the lab has several regions; one region uses the default provider. */
  readonly alias?: string;
  readonly network: NetworkPlan;
}

export interface NetworkPlan extends Placed {
  /** Prefix of the Name tags, e.g. `lf-expert-use1`. */
  readonly name: string;
  /** Availability zones the subnets span (1-3). */
  readonly azs: number;
  /** The region's position: picks its /16. */
  readonly regionIndex: number;
  /** The VPC's /16, distinct per region. */
  readonly cidr: string;
  /** One /20 per AZ. */
  readonly publicSubnetCidrs: readonly string[];
  /** One /20 per AZ behind a NAT gateway; empty without private subnets. */
  readonly privateSubnetCidrs: readonly string[];
  readonly privateSubnets: boolean;
  /** Tag subnets for Kubernetes load balancers (labs with a cluster). */
  readonly kubernetesSubnetTags: boolean;
}

/** Created once with the primary region's provider. */
export interface GlobalPlan {
  /** `<lab>/<id>`. */
  readonly path: string;
  /** The cdktf construct id; also unique within the lab (refs, Pulumi names). */
  readonly id: string;
}

export interface KmsKeyPlan extends Placed {
  /** Alias without `alias/`. */
  readonly name: string;
}

export interface SecretPlan extends Placed {
  /** SSM SecureString parameter the value is kept in. */
  readonly parameterName: string;
  readonly description: string;
}

export interface SecurityGroupPlan extends Placed {
  readonly name: string;
  readonly description: string;
  readonly ingress: readonly IngressPlan[];
}

export type IngressPlan = IngressRule<Ref>;

export interface ClusterPlan extends Placed {
  /** Literal settings, named as both engines' EKS components take them. */
  readonly settings: {
    readonly name: string;
    readonly version: string;
    /** CIDR allowed to reach the public API endpoint; undefined keeps it private. */
    readonly publicAccessCidr?: string;
    readonly nodeInstanceType: string;
    readonly minNodes: number;
    readonly maxNodes: number;
    readonly desiredNodes: number;
  };
  /** The region's key, which encrypts Kubernetes secrets. */
  readonly kmsKey: Ref;
}

export interface DatabasePlan extends Placed {
  /** The postgres component (`db`). */
  readonly component: string;
  readonly shard: number;
  readonly settings: {
    readonly identifier: string;
    readonly version: string;
    readonly instanceClass: string;
    readonly storageGb: number;
    readonly database: string;
    readonly user: string;
    /** 1 when the shard has replicas (a replica's source needs backups), else 0. */
    readonly backupRetentionDays: number;
  };
  readonly password: Ref;
  /** Who may connect on 5432. */
  readonly allowFrom: readonly Source<Ref>[];
  /** The region's key when the shard has replicas (cross-region replicas need one). @default the account's aws/rds key */
  readonly kmsKey?: Ref;
  /** Read replicas, each in a region other than the primary's. */
  readonly replicas: readonly ReplicaPlan[];
}

export interface ReplicaPlan extends Placed {
  readonly settings: { readonly identifier: string; readonly instanceClass: string; readonly storageGb: number };
  /** The primary's ARN (an ARN, not an id: it may be in another region). */
  readonly source: Ref;
  readonly allowFrom: readonly Source<Ref>[];
  /** The replica region's key: the source is encrypted. */
  readonly kmsKey: Ref;
}

export interface RedisPlan extends Placed {
  readonly settings: { readonly name: string; readonly nodeType: string };
  readonly authToken: Ref;
  readonly allowFrom: readonly Source<Ref>[];
}

export interface RabbitmqPlan extends Placed {
  readonly settings: { readonly name: string; readonly instanceType: string; readonly user: string };
  readonly password: Ref;
  readonly allowFrom: readonly Source<Ref>[];
}

export interface KafkaPlan extends Placed {
  /** `allowCidrs`: every lab VPC, so peered regions can consume. */
  readonly settings: {
    readonly name: string;
    readonly brokers: number;
    readonly instanceType: string;
    readonly allowCidrs: readonly string[];
  };
  readonly kmsKey: Ref;
}

export interface BucketPlan extends Placed {
  readonly settings: { readonly namePrefix: string };
}

/** Refs to a repository's URL name `<registry uid>/<repository>`. */
export interface RegistryPlan extends Placed {
  readonly settings: { readonly namespace: string; readonly repositories: readonly string[] };
}

export interface VmPlan extends Placed {
  readonly settings: { readonly name: string; readonly instanceType: string; readonly diskGb: number };
  readonly securityGroup: Ref;
  /** Cloud-init: installs PostgreSQL, or writes the hosted services' environment. */
  readonly userData: UserDataPlan;
  /** SSM parameters the instance role may read. */
  readonly readParameters: readonly Ref[];
  /** Buckets whose objects the instance role may use. */
  readonly buckets: readonly Ref[];
}

export interface DnsPlan extends GlobalPlan {
  readonly zoneName: string;
  readonly regions: readonly string[];
}

export interface PeeringPlan extends GlobalPlan {
  /** Name tag of the connection. */
  readonly name: string;
  /** Region indexes: the requester asks, the accepter accepts. */
  readonly requester: number;
  readonly accepter: number;
}

export interface OutputPlan {
  readonly name: string;
  readonly description: string;
  readonly sensitive: boolean;
  readonly value: PlanValue;
}
