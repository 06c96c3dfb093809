// The AWS plan of a lab: everything the cdktf engine (constructs/aws) and the Pulumi engine
// (constructs/pulumi) create for it, worked out and validated once, as plain data (types in
// aws-plan-types.ts). Each engine only renders it: per element one component with the element's
// literal settings, plus the references only the engine has (VPC and subnet ids, ARNs), looked up
// by the element's refs. Like aws-cdk-lib's Vpc, which settles subnets and AZs before it creates
// one resource, a bad spec fails here, naming the element (`expert/us-east-1/events: ...`), with
// a ValidationError on both engines and before either has created anything.
//
// Where each component kind goes when a lab has several regions:
//   network, kubernetes-cluster, kafka      every region
//   postgres (managed)                      shard primaries round-robin, replicas in other regions
//   postgres (hostVm)                       on its VM, set up by cloud-init
//   vm, redis, rabbitmq, bucket, registry   the first (primary) region
//   load-balancer with globalDns            Route 53 latency records over every region
//   load-balancer without, service          nothing here: services run on EKS (Kubernetes engine)
//                                           or, without a cluster, on the app VM (opens its port)
import { POSTGRES_PORT, PRIVATE_SUBNET_OFFSET, REDIS_PORT } from './aws.js';
import {
  checkBucketPrefix,
  checkDns,
  checkEks,
  checkKafka,
  checkNetwork,
  checkPeering,
  checkRabbitmq,
  checkRds,
  checkRedis,
  checkRegistry,
} from './aws-plan-checks.js';
import { checkIngress, clientIngress, kafkaIngress, type IngressRule, type Source } from './aws-plan-ingress.js';
import type * as T from './aws-plan-types.js';
import { ref, type EnvVar, type PlanValue, type Ref } from './aws-plan-values.js';
import { planVmSecurityGroups, planVms, type VmPlanning } from './aws-plan-vm.js';
import type { LabDeployment } from './deployment.js';
import { ValidationError } from './errors.js';
import { clusterOutputNames, dnsZoneName, physicalName, regionCidr, regionCode, subnetCidr } from './names.js';
import { labTags } from './tags.js';
import type { Component, ComponentOf } from './types.js';
import { componentsOf } from './validate.js';

export type * from './aws-plan-types.js';

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`);
}

export interface ShardPlacement {
  readonly shard: number;
  /** Index into the lab's regions. */
  readonly primary: number;
  /** Region indexes of the replicas, each different from the primary's. */
  readonly replicas: readonly number[];
}

/**
 * Primaries round-robin over the regions; replica r of shard s goes to the r-th next region, so
 * each replica is in a region other than its primary's and replicas of one shard never share one.
 * `path` (the postgres component's) starts the error message.
 */
export function placeShards(shards: number, replicas: number, regions: number, path?: string): ShardPlacement[] {
  const at = path === undefined ? '' : `${path}: `;
  if (!Number.isInteger(shards) || shards < 1) throw new ValidationError(`${at}shards must be >= 1, got ${shards}`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new ValidationError(`${at}replicas must be >= 0, got ${replicas}`);
  if (replicas > regions - 1)
    throw new ValidationError(`${at}replicas (${replicas}) must each be in another region: needs ${replicas + 1} regions, got ${regions}`);
  return Array.from({ length: shards }, (_, shard) => {
    const primary = shard % regions;
    return { shard, primary, replicas: Array.from({ length: replicas }, (_, r) => (primary + r + 1) % regions) };
  });
}

/** A region's VPC and subnet CIDRs: the region's /16, public /20s first, private ones from PRIVATE_SUBNET_OFFSET. */
export function networkLayout(
  regionIndex: number,
  azs: number,
  privateSubnets: boolean,
): { cidr: string; public: string[]; private: string[] } {
  const subnets = (offset: number) => Array.from({ length: azs }, (_, i) => subnetCidr(regionIndex, offset + i));
  return { cidr: regionCidr(regionIndex), public: subnets(0), private: privateSubnets ? subnets(PRIVATE_SUBNET_OFFSET) : [] };
}

/** What planning one lab shares between the kinds: regions, names, clients, and the outputs found so far. */
class Planner implements VmPlanning {
  readonly lab: string;
  readonly regions: T.RegionPlan[];
  readonly multiRegion: boolean;
  readonly hasCluster: boolean;
  /** Output name -> value, as the components provide them. */
  readonly values = new Map<string, PlanValue>();
  /** Connection settings of each data component, for the VMs that host services using it. */
  readonly env = new Map<string, EnvVar[]>();
  readonly bucketArns = new Map<string, Ref>();
  readonly secrets: T.SecretPlan[] = [];
  readonly vmSecurityGroups: T.SecurityGroupPlan[] = [];
  private readonly clusters: T.ClusterPlan[] = [];
  private readonly keyed = new Set<number>();

  constructor(readonly d: LabDeployment) {
    this.lab = d.name;
    if (d.regions.length === 0) fail(d.name, 'the deployment lists no region');
    const network = componentsOf(d.lab, 'network')[0];
    if (!network) fail(d.name, 'the lab has no network component');
    this.multiRegion = d.regions.length > 1;
    this.hasCluster = componentsOf(d.lab, 'kubernetes-cluster').length > 0;
    this.regions = d.regions.map((region, index) => {
      const code = regionCode(region);
      const layout = networkLayout(index, network.azs, network.privateSubnets);
      const net: T.NetworkPlan = {
        ...this.place({ region, index, code }, network.id, true),
        name: this.physical({ code }),
        azs: network.azs,
        regionIndex: index,
        cidr: layout.cidr,
        publicSubnetCidrs: layout.public,
        privateSubnetCidrs: layout.private,
        privateSubnets: network.privateSubnets,
        kubernetesSubnetTags: this.hasCluster,
      };
      checkNetwork(net.path, net.azs, index);
      return { region, index, code, ...(this.multiRegion ? { alias: code } : {}), network: net };
    });
  }

  /** Physical name; in multi-region labs regional names carry the region code. */
  physical(region: { readonly code: string } | undefined, ...parts: string[]): string {
    const regional = region !== undefined && this.multiRegion ? [region.code] : [];
    return physicalName(this.lab, [...regional, ...parts]);
  }

  /** Where an element goes; `perRegion`: the lab has one in every region, so its uid carries the code. */
  place(region: { readonly region: string; readonly index: number; readonly code: string }, id: string, perRegion: boolean): T.Placed {
    return { path: `${this.lab}/${region.region}/${id}`, id, uid: perRegion ? `${region.code}-${id}` : id, region: region.index };
  }

  get primary(): T.RegionPlan {
    return this.regions[0]!;
  }

  /** Private subnets of the element's region; a network without them is a spec error at the element. */
  privateSubnets(at: T.Placed): number {
    const net = this.regions[at.region]!.network;
    if (!net.privateSubnets) fail(at.path, `needs private subnets; the network '${net.id}' has none`);
    return net.azs;
  }

  /** The region's lab key, planned on first use. */
  kmsKey(region: number): Ref {
    this.keyed.add(region);
    return ref(`${this.regions[region]!.code}-kms`, 'arn');
  }

  kmsKeys(): T.KmsKeyPlan[] {
    return this.regions
      .filter((r) => this.keyed.has(r.index))
      .map((r) => ({ ...this.place(r, 'kms', true), name: this.physical(r, 'key') }));
  }

  /** A generated password of a component, kept in SSM in the primary region. */
  secret(componentId: string, what: string): Ref {
    const id = `${componentId}-${what}`;
    if (!this.secrets.some((s) => s.id === id)) {
      this.secrets.push({
        ...this.place(this.primary, id, false),
        parameterName: `/labforge/${this.lab}/${componentId}/${what}`,
        description: `labforge ${this.lab}: ${componentId} ${what}`,
      });
    }
    return ref(id, 'value');
  }

  /** Who may reach a data service in `region`: the clients' security groups, or with several regions the lab's VPC CIDRs. */
  clientsOf(region: number): Source<Ref>[] {
    if (this.multiRegion) return this.regions.map((r) => ({ cidr: r.network.cidr }));
    const vms = this.vmSecurityGroups.map((g) => ({ securityGroupId: ref(g.uid, 'id') }));
    const clusters = this.clusters.filter((c) => c.region === region).map((c) => ({ securityGroupId: ref(c.uid, 'security-group') }));
    return [...vms, ...clusters];
  }

  clusterPlans(k8s: ComponentOf<'kubernetes-cluster'>, outputs: Map<string, T.OutputPlan>): T.ClusterPlan[] {
    const planned = this.regions.map((r): T.ClusterPlan => {
      const { version, nodeInstanceType, minNodes, maxNodes, desiredNodes } = k8s;
      const settings = {
        name: this.physical(r, k8s.id),
        version,
        publicAccessCidr: this.d.allowCidr,
        nodeInstanceType,
        minNodes,
        maxNodes,
        desiredNodes,
      };
      return { ...this.place(r, k8s.id, true), settings, kmsKey: this.kmsKey(r.index) };
    });
    for (const c of planned) {
      const region = this.regions[c.region]!.region;
      const names = clusterOutputNames(region);
      const where = `EKS cluster in ${region}`;
      outputs.set(names.name, { name: names.name, description: `${where}: name`, sensitive: false, value: ref(c.uid, 'name') });
      outputs.set(names.endpoint, {
        name: names.endpoint,
        description: `${where}: API server endpoint`,
        sensitive: false,
        value: ref(c.uid, 'endpoint'),
      });
      outputs.set(names.ca, {
        name: names.ca,
        description: `${where}: CA certificate (base64)`,
        sensitive: false,
        value: ref(c.uid, 'ca'),
      });
    }
    this.clusters.push(...planned);
    this.values.set('eks_cluster_name', ref(planned[0]!.uid, 'name'));
    this.values.set('eks_cluster_names', {
      record: Object.fromEntries(planned.map((c) => [this.regions[c.region]!.region, ref(c.uid, 'name')])),
    });
    return planned;
  }

  databasePlans(pg: ComponentOf<'postgres'>): T.DatabasePlan[] {
    const placements = placeShards(pg.shards, pg.replicas, this.regions.length, `${this.lab}/${pg.id}`);
    const password = this.secret(pg.id, 'password');
    const sharded = pg.shards > 1;
    const { version, instanceClass, storageGb, database, user } = pg;
    const databases = placements.map(({ shard, primary, replicas }): T.DatabasePlan => {
      const r = this.regions[primary]!;
      const parts = sharded ? [pg.id, `shard${shard}`] : [pg.id];
      const at = this.place(r, parts.join('-'), true);
      const replicaPlans = replicas.map((ri, n): T.ReplicaPlan => {
        const rr = this.regions[ri]!;
        const replicaParts = [...parts, `replica${n}`];
        const settings = { identifier: this.physical(rr, ...replicaParts), instanceClass, storageGb };
        return {
          ...this.place(rr, replicaParts.join('-'), true),
          settings,
          source: ref(at.uid, 'arn'),
          allowFrom: this.clientsOf(ri),
          kmsKey: this.kmsKey(ri),
        };
      });
      const backupRetentionDays = replicas.length > 0 ? 1 : 0;
      const settings = { identifier: this.physical(r, ...parts), version, instanceClass, storageGb, database, user, backupRetentionDays };
      // Cross-region replicas need a customer key and backups on the source.
      const kmsKey = replicas.length > 0 ? { kmsKey: this.kmsKey(primary) } : {};
      return { ...at, component: pg.id, shard, settings, password, allowFrom: this.clientsOf(primary), ...kmsKey, replicas: replicaPlans };
    });
    const address = (p: T.Placed) => ref(p.uid, 'address');
    this.values.set('postgres_password', password);
    const endpoints = databases.map((db) => ({
      record: {
        shard: db.shard,
        region: this.regions[db.region]!.region,
        primary: address(db),
        replicas: { list: db.replicas.map((r) => ({ record: { region: this.regions[r.region]!.region, endpoint: address(r) } })) },
      },
    }));
    this.values.set('shard_endpoints', { list: endpoints });
    if (!sharded) {
      const host = address(databases[0]!);
      this.values.set('postgres_endpoint', host);
      const pgEnv = { PGHOST: host, PGPORT: String(POSTGRES_PORT), PGDATABASE: database, PGUSER: user, PGSSLMODE: 'require' };
      this.env.set(
        pg.id,
        Object.entries(pgEnv).map(([name, value]) => ({ name, value })),
      );
    }
    return databases;
  }

  redisPlan(c: ComponentOf<'redis'>): T.RedisPlan {
    const plan = { ...this.place(this.primary, c.id, false), settings: { name: physicalName(this.lab, [c.id], 40), nodeType: c.nodeType } };
    const authToken = this.secret(c.id, 'auth-token');
    const endpoint = ref(plan.uid, 'endpoint');
    this.values.set('redis_endpoint', endpoint);
    this.values.set('redis_auth_token', authToken);
    this.env.set(c.id, [
      { name: 'REDIS_HOST', value: endpoint },
      { name: 'REDIS_PORT', value: String(REDIS_PORT) },
      { name: 'REDIS_TLS', value: 'true' },
    ]);
    return { ...plan, authToken, allowFrom: this.clientsOf(0) };
  }

  rabbitmqPlan(c: ComponentOf<'rabbitmq'>): T.RabbitmqPlan {
    const plan = {
      ...this.place(this.primary, c.id, false),
      settings: { name: this.physical(undefined, c.id), instanceType: c.instanceType, user: c.user },
    };
    const password = this.secret(c.id, 'password');
    this.values.set('mq_amqp_endpoint', ref(plan.uid, 'endpoint'));
    this.values.set('mq_password', password);
    return { ...plan, password, allowFrom: this.clientsOf(0) };
  }

  kafkaPlans(c: ComponentOf<'kafka'>): T.KafkaPlan[] {
    const allowCidrs = this.regions.map((o) => o.network.cidr);
    const plans = this.regions.map((r) => ({
      ...this.place(r, c.id, true),
      settings: { name: this.physical(r, c.id), brokers: c.brokers, instanceType: c.instanceType, allowCidrs },
      kmsKey: this.kmsKey(r.index),
    }));
    this.values.set('kafka_bootstrap', {
      record: Object.fromEntries(plans.map((k) => [this.regions[k.region]!.region, ref(k.uid, 'bootstrap')])),
    });
    return plans;
  }

  bucketPlan(c: ComponentOf<'bucket'>): T.BucketPlan {
    const plan = { ...this.place(this.primary, c.id, false), settings: { namePrefix: `${physicalName(this.lab, [c.id], 36)}-` } };
    this.bucketArns.set(c.id, ref(plan.uid, 'arn'));
    this.values.set(`${c.id}_bucket`, ref(plan.uid, 'name'));
    this.env.set(c.id, [{ name: `${c.id.toUpperCase()}_BUCKET`, value: ref(plan.uid, 'name') }]);
    return plan;
  }

  registryPlan(c: ComponentOf<'registry'>): T.RegistryPlan {
    const plan = {
      ...this.place(this.primary, c.id, false),
      settings: { namespace: physicalName(this.lab, []), repositories: c.repositories },
    };
    this.values.set('ecr_repository_urls', {
      record: Object.fromEntries(c.repositories.map((name) => [name, ref(`${plan.uid}/${name}`, 'url')])),
    });
    return plan;
  }
}

/** Every security group of the plan with its ingress rules (as the engines' components build them). */
export function labIngress(plan: T.AwsPlan): { readonly path: string; readonly rules: readonly IngressRule<Ref>[] }[] {
  return [
    ...plan.vmSecurityGroups.map((g) => ({ path: g.path, rules: g.ingress })),
    ...plan.databases.flatMap((db) => [db, ...db.replicas].map((x) => ({ path: x.path, rules: clientIngress('postgres', x.allowFrom) }))),
    ...plan.redis.map((x) => ({ path: x.path, rules: clientIngress('redis', x.allowFrom) })),
    ...plan.rabbitmq.map((x) => ({ path: x.path, rules: clientIngress('rabbitmq', x.allowFrom) })),
    ...plan.kafka.map((x) => ({ path: x.path, rules: kafkaIngress(x.settings.allowCidrs) })),
  ];
}

/** The data services in the LabSpec's order. */
function dataServices(p: Planner, components: readonly Component[]) {
  const plan = {
    databases: [] as T.DatabasePlan[],
    redis: [] as T.RedisPlan[],
    rabbitmq: [] as T.RabbitmqPlan[],
    kafka: [] as T.KafkaPlan[],
    buckets: [] as T.BucketPlan[],
    registries: [] as T.RegistryPlan[],
  };
  for (const c of components) {
    if (c.kind === 'postgres' && c.hostVm === undefined) plan.databases.push(...p.databasePlans(c));
    else if (c.kind === 'redis') plan.redis.push(p.redisPlan(c));
    else if (c.kind === 'rabbitmq') plan.rabbitmq.push(p.rabbitmqPlan(c));
    else if (c.kind === 'kafka') plan.kafka.push(...p.kafkaPlans(c));
    else if (c.kind === 'bucket') plan.buckets.push(p.bucketPlan(c));
    else if (c.kind === 'registry') plan.registries.push(p.registryPlan(c));
  }
  return plan;
}

export function awsPlan(d: LabDeployment): T.AwsPlan {
  const p = new Planner(d);
  const lab = d.lab;
  // VM groups first: the data services planned next admit them as clients.
  planVmSecurityGroups(p, lab);
  const clusterOutputs = new Map<string, T.OutputPlan>();
  const clusters = componentsOf(lab, 'kubernetes-cluster').flatMap((k8s) => p.clusterPlans(k8s, clusterOutputs));
  const eksRoles = clusters.length > 0 ? { path: `${d.name}/eks-roles`, id: 'eks-roles', name: physicalName(d.name, []) } : undefined;
  const services = dataServices(p, lab.components);
  // VMs last: a hosted service's environment holds the endpoints of the data services it uses.
  const vms = planVms(p, lab);
  const dns = componentsOf(lab, 'load-balancer')
    .filter((lb) => lb.globalDns)
    .map((lb): T.DnsPlan => ({ path: `${d.name}/${lb.id}`, id: lb.id, zoneName: dnsZoneName(d.name), regions: d.regions }));
  for (const z of dns) p.values.set('api_dns_name', ref(z.id, 'fqdn'));
  const peerings: T.PeeringPlan[] = [];
  if (p.primary.network.privateSubnets) {
    for (const [i, a] of p.regions.entries()) {
      for (const b of p.regions.slice(i + 1)) {
        const id = `peering-${a.code}-${b.code}`;
        peerings.push({ path: `${d.name}/${id}`, id, name: physicalName(d.name, [a.code, b.code]), requester: a.index, accepter: b.index });
      }
    }
  }
  p.values.set('regions', { list: [...d.regions] });
  const outputs = lab.outputs.map((spec): T.OutputPlan => {
    const value = p.values.get(spec.name);
    if (value === undefined) fail(d.name, `output '${spec.name}' of the ${lab.level} lab has no value in the aws engines (cdktf, pulumi)`);
    return { ...spec, value };
  });
  const plan: T.AwsPlan = {
    lab: d.name,
    level: lab.level,
    tags: labTags({ lab: d.name, level: lab.level, owner: d.owner, expiresAt: d.expiresAt }),
    regions: p.regions,
    kmsKeys: p.kmsKeys(),
    secrets: p.secrets,
    vmSecurityGroups: p.vmSecurityGroups,
    ...(eksRoles ? { eksRoles } : {}),
    clusters,
    ...services,
    vms,
    dns,
    peerings,
    outputs,
    clusterOutputs: [...clusterOutputs.values()],
  };
  validate(p, plan);
  return plan;
}

/** The limits of each element, checked before any engine creates one. */
function validate(p: Planner, plan: T.AwsPlan): void {
  for (const c of plan.clusters) checkEks(c.path, { ...c.settings, subnets: p.privateSubnets(c) });
  for (const db of plan.databases) {
    checkRds(db.path, { ...db.settings, subnets: p.privateSubnets(db), sources: db.allowFrom.length });
    for (const r of db.replicas) checkRds(r.path, { ...r.settings, subnets: p.privateSubnets(r), sources: r.allowFrom.length });
  }
  for (const r of plan.redis) checkRedis(r.path, { name: r.settings.name, subnets: p.privateSubnets(r), sources: r.allowFrom.length });
  for (const r of plan.rabbitmq) {
    p.privateSubnets(r);
    checkRabbitmq(r.path, { ...r.settings, sources: r.allowFrom.length });
  }
  for (const k of plan.kafka)
    checkKafka(k.path, { brokers: k.settings.brokers, subnets: p.privateSubnets(k), cidrs: k.settings.allowCidrs.length });
  for (const b of plan.buckets) checkBucketPrefix(b.path, b.settings.namePrefix);
  for (const r of plan.registries) checkRegistry(r.path, r.settings.repositories);
  for (const z of plan.dns) checkDns(z.path, z.regions);
  const side = (i: number) => ({ region: p.regions[i]!.region, cidr: p.regions[i]!.network.cidr });
  for (const x of plan.peerings) checkPeering(x.path, side(x.requester), side(x.accepter));
  for (const g of labIngress(plan)) checkIngress(g.path, g.rules);
}
