// One lab as one TerraformStack, composed from the LabSpec's components. Where each component
// kind lives when a lab has several regions:
//   network, kubernetes-cluster, kafka      every region
//   postgres (managed)                      shard primaries round-robin, replicas in other regions
//   postgres (hostVm)                       on its VM, set up by cloud-init
//   vm, redis, rabbitmq, bucket, registry   the first (primary) region
//   load-balancer with globalDns            Route 53 latency records over every region
//   load-balancer without, service          nothing here: services run on EKS (Kubernetes engine)
//                                           or, without a cluster, on the app VM (opens its port)
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import { POSTGRES_PORT, REDIS_PORT } from '../model/aws.js';
import { placeShards } from '../model/aws-plan.js';
import { renderTemplate, shellQuote, templateLiteral } from '../model/cloud-init.js';
import type { LabDeployment } from '../model/deployment.js';
import { ValidationError } from '../model/errors.js';
import { clusterOutputNames, dnsZoneName, physicalName, regionCode } from '../model/names.js';
import { labTags } from '../model/tags.js';
import type { Component, ComponentOf } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { LabBucket } from './bucket.js';
import { LatencyDns } from './dns.js';
import { LabEksCluster } from './eks.js';
import { EksRoles } from './iam.js';
import { LabKafka } from './kafka.js';
import { LabKmsKey } from './kms.js';
import { LabNetwork } from './network.js';
import { RegionPeering } from './peering.js';
import { RdsPostgres, RdsReadReplica } from './postgres.js';
import { LabRabbitmq } from './rabbitmq.js';
import { LabRedis } from './redis.js';
import { RegionScope, bindProviders } from './region.js';
import { LabRegistry } from './registry.js';
import { GeneratedSecret } from './secret.js';
import { labBackend } from './state-backend.js';
import { LabSecurityGroup, type IngressRule, type Source } from './security-group.js';
import { LabVm } from './vm.js';

export interface LabStackProps {
  /** The resolved lab: spec, name, owner, regions, expiry, allowed CIDR. */
  readonly deployment: LabDeployment;
}

/** What one region of the lab holds while the stack is being composed. */
class Region {
  readonly clientGroups: string[] = [];
  private key?: LabKmsKey;
  network!: LabNetwork;

  constructor(
    readonly scope: RegionScope,
    private readonly keyName: string,
  ) {}

  /** The region's lab KMS key, created on first use. */
  kmsKey(): LabKmsKey {
    this.key ??= new LabKmsKey(this.scope, 'kms', { name: this.keyName });
    return this.key;
  }
}

export class LabStack extends TerraformStack {
  private readonly d: LabDeployment;
  private readonly regions: Region[];
  private readonly global: Construct;
  private readonly outputs = new Map<string, unknown>();
  /** Connection outputs of each EKS cluster, beyond the spec's outputs. */
  private readonly clusterOutputs = new Map<string, { value: string; description: string }>();
  /** Connection settings (env lines) of each data component, for the app VM. */
  private readonly env = new Map<string, Record<string, string>>();
  private readonly bucketArns = new Map<string, string>();
  private eksRoles?: EksRoles;
  private readonly multiRegion: boolean;

  constructor(scope: Construct, id: string, props: LabStackProps) {
    super(scope, id);
    this.d = props.deployment;
    const d = this.d;
    if (d.regions.length === 0) throw new Error(`${this.node.path}: the deployment lists no region`);
    const tags = labTags({ lab: d.name, level: d.lab.level, owner: d.owner, expiresAt: d.expiresAt });
    this.multiRegion = d.regions.length > 1;
    labBackend(this, d, id);
    new RandomProvider(this, 'random');
    // One region: the default provider. Several: one aliased provider per region.
    this.regions = d.regions.map((region, index) => {
      const scope = new RegionScope(this, regionCode(region), { region, index, tags, alias: this.multiRegion ? regionCode(region) : undefined });
      return new Region(scope, this.name(scope, 'key'));
    });
    // Global services (IAM, Route 53) are created once, with the first region's provider.
    this.global = new Construct(this, 'global');

    const lab = d.lab;
    const network = componentsOf(lab, 'network')[0];
    if (!network) throw new ValidationError(`${this.node.path}: the lab has no network component`);
    const hasCluster = componentsOf(lab, 'kubernetes-cluster').length > 0;
    for (const r of this.regions) {
      r.network = new LabNetwork(r.scope, network.id, {
        name: this.name(r.scope),
        azs: network.azs,
        regionIndex: r.scope.index,
        privateSubnets: network.privateSubnets,
        kubernetesSubnetTags: hasCluster,
      });
    }

    const vmGroups = new Map(componentsOf(lab, 'vm').map((vm) => [vm.id, this.vmSecurityGroup(vm)]));
    for (const k8s of componentsOf(lab, 'kubernetes-cluster')) this.cluster(k8s, tags);
    for (const c of lab.components) this.dataComponent(c);
    for (const vm of componentsOf(lab, 'vm')) this.vm(vm, vmGroups.get(vm.id)!, tags);
    for (const lb of componentsOf(lab, 'load-balancer')) {
      if (!lb.globalDns) continue;
      const dns = new LatencyDns(this.global, lb.id, { zoneName: dnsZoneName(d.name), regions: d.regions });
      this.outputs.set('api_dns_name', dns.fqdn);
    }
    if (network.privateSubnets) this.peerEveryPair();

    this.outputs.set('regions', [...d.regions]);
    for (const spec of lab.outputs) {
      const value = this.outputs.get(spec.name);
      if (value === undefined) throw new ValidationError(`${this.node.path}: output '${spec.name}' of the ${lab.level} lab has no value in the aws engine`);
      new TerraformOutput(this, spec.name, { value, description: spec.description, sensitive: spec.sensitive });
    }
    // What the separate cluster-objects stack (constructs/k8s) configures its Kubernetes provider
    // from, through this stack's state: keeping the two apart lets `destroy` remove the
    // in-cluster objects while the cluster still exists, then the cluster.
    for (const [name, { value, description }] of this.clusterOutputs) new TerraformOutput(this, name, { value, description });

    bindProviders(this.global, this.regions[0]!.scope.provider);
    for (const r of this.regions) r.scope.bindProviders();
  }

  private get primary(): Region {
    return this.regions[0]!;
  }

  /** Physical name; in multi-region labs regional names carry the region code. */
  private name(region: RegionScope | undefined, ...parts: string[]): string {
    const regional = region !== undefined && this.multiRegion ? [region.code] : [];
    return physicalName(this.d.name, [...regional, ...parts]);
  }

  /** Sources allowed to reach a data service: the clients' security groups, or with several
   * regions the lab's VPC CIDRs (security groups cannot be referenced across regions). */
  private clientsOf(region: Region): Source[] {
    if (this.multiRegion) return this.regions.map((r) => ({ cidr: r.network.cidrBlock }));
    return region.clientGroups.map((securityGroupId) => ({ securityGroupId }));
  }

  private secret(componentId: string, what: string): GeneratedSecret {
    return new GeneratedSecret(this.primary.scope, `${componentId}-${what}`, {
      parameterName: `/labforge/${this.d.name}/${componentId}/${what}`,
      description: `labforge ${this.d.name}: ${componentId} ${what}`,
    });
  }

  /** Services with no cluster to run on are hosted by the app VMs. */
  private hostedServices(vm: ComponentOf<'vm'>): ComponentOf<'service'>[] {
    if (vm.role !== 'app-host' || componentsOf(this.d.lab, 'kubernetes-cluster').length > 0) return [];
    return componentsOf(this.d.lab, 'service');
  }

  private vmSecurityGroup(vm: ComponentOf<'vm'>): LabSecurityGroup {
    const cidr = this.d.allowCidr;
    const ports: [number, string][] = [[22, 'SSH']];
    if (componentsOf(this.d.lab, 'postgres').some((p) => p.hostVm === vm.id)) ports.push([POSTGRES_PORT, 'PostgreSQL']);
    for (const s of this.hostedServices(vm)) if (s.port > 0) ports.push([s.port, `${s.id} service`]);
    // No allowed CIDR: no ingress at all (reach the VM through the console or SSM instead).
    const ingress: IngressRule[] = cidr === undefined ? [] : ports.map(([port, what]) => ({ port, from: { cidr }, description: `${what} from the allowed CIDR` }));
    const sg = new LabSecurityGroup(this.primary.scope, `${vm.id}-sg`, {
      name: this.name(undefined, vm.id),
      vpcId: this.primary.network.vpc.id,
      description: `${vm.id}: reachable only from the allowed CIDR`,
      ingress,
    });
    this.primary.clientGroups.push(sg.id);
    return sg;
  }

  private cluster(k8s: ComponentOf<'kubernetes-cluster'>, tags: Record<string, string>): void {
    this.eksRoles ??= new EksRoles(this.global, 'eks-roles', { name: physicalName(this.d.name, []) });
    const names: Record<string, string> = {};
    for (const r of this.regions) {
      const cluster = new LabEksCluster(r.scope, k8s.id, {
        name: this.name(r.scope, k8s.id),
        version: k8s.version,
        roles: this.eksRoles,
        subnetIds: r.network.privateSubnetIds(`cluster ${k8s.id}`),
        kmsKeyArn: r.kmsKey().arn,
        publicAccessCidr: this.d.allowCidr,
        nodeInstanceType: k8s.nodeInstanceType,
        minNodes: k8s.minNodes,
        maxNodes: k8s.maxNodes,
        desiredNodes: k8s.desiredNodes,
        nodeTags: tags,
      });
      r.clientGroups.push(cluster.clusterSecurityGroupId);
      names[r.scope.region] = cluster.cluster.name;
      const out = clusterOutputNames(r.scope.region);
      const where = `EKS cluster in ${r.scope.region}`;
      this.clusterOutputs.set(out.name, { value: cluster.cluster.name, description: `${where}: name` });
      this.clusterOutputs.set(out.endpoint, { value: cluster.cluster.endpoint, description: `${where}: API server endpoint` });
      this.clusterOutputs.set(out.ca, { value: cluster.cluster.certificateAuthority.get(0).data, description: `${where}: CA certificate (base64)` });
    }
    this.outputs.set('eks_cluster_name', names[this.d.regions[0]!]);
    this.outputs.set('eks_cluster_names', names);
  }

  private dataComponent(c: Component): void {
    const p = this.primary;
    switch (c.kind) {
      case 'postgres':
        if (c.hostVm === undefined) this.managedPostgres(c);
        return;
      case 'redis': {
        const token = this.secret(c.id, 'auth-token');
        const redis = new LabRedis(p.scope, c.id, {
          name: physicalName(this.d.name, [c.id], 40),
          nodeType: c.nodeType,
          vpcId: p.network.vpc.id,
          subnetIds: p.network.privateSubnetIds(`redis ${c.id}`),
          allowFrom: this.clientsOf(p),
          authToken: token.value,
        });
        this.outputs.set('redis_endpoint', redis.endpoint);
        this.outputs.set('redis_auth_token', token.value);
        this.env.set(c.id, { REDIS_HOST: redis.endpoint, REDIS_PORT: String(REDIS_PORT), REDIS_TLS: 'true' });
        return;
      }
      case 'rabbitmq': {
        const password = this.secret(c.id, 'password');
        const mq = new LabRabbitmq(p.scope, c.id, {
          name: this.name(undefined, c.id),
          instanceType: c.instanceType,
          vpcId: p.network.vpc.id,
          subnetId: p.network.privateSubnetIds(`rabbitmq ${c.id}`)[0]!,
          allowFrom: this.clientsOf(p),
          user: c.user,
          password: password.value,
        });
        this.outputs.set('mq_amqp_endpoint', mq.amqpEndpoint);
        this.outputs.set('mq_password', password.value);
        return;
      }
      case 'kafka': {
        const bootstrap: Record<string, string> = {};
        for (const r of this.regions) {
          const kafka = new LabKafka(r.scope, c.id, {
            name: this.name(r.scope, c.id),
            brokers: c.brokers,
            instanceType: c.instanceType,
            vpcId: r.network.vpc.id,
            subnetIds: r.network.privateSubnetIds(`kafka ${c.id}`),
            allowCidrs: this.regions.map((o) => o.network.cidrBlock),
            kmsKeyArn: r.kmsKey().arn,
          });
          bootstrap[r.scope.region] = kafka.bootstrapBrokersTls;
        }
        this.outputs.set('kafka_bootstrap', bootstrap);
        return;
      }
      case 'bucket': {
        const bucket = new LabBucket(p.scope, c.id, { namePrefix: `${physicalName(this.d.name, [c.id], 36)}-` });
        this.bucketArns.set(c.id, bucket.arn);
        this.outputs.set(`${c.id}_bucket`, bucket.name);
        this.env.set(c.id, { [`${c.id.toUpperCase()}_BUCKET`]: bucket.name });
        return;
      }
      case 'registry': {
        const registry = new LabRegistry(p.scope, c.id, { namespace: physicalName(this.d.name, []), repositories: c.repositories });
        this.outputs.set('ecr_repository_urls', registry.urls());
        return;
      }
      default:
        return;
    }
  }

  private managedPostgres(pg: ComponentOf<'postgres'>): void {
    let placements;
    try {
      placements = placeShards(pg.shards, pg.replicas, this.regions.length);
    } catch (e) {
      throw new ValidationError(`${this.node.path}/${pg.id}: ${(e as Error).message}`);
    }
    const password = this.secret(pg.id, 'password');
    const sharded = pg.shards > 1;
    const shardEndpoints = placements.map(({ shard, primary, replicas }) => {
      const r = this.regions[primary]!;
      const parts = sharded ? [pg.id, `shard${shard}`] : [pg.id];
      const db = new RdsPostgres(r.scope, parts.join('-'), {
        identifier: this.name(r.scope, ...parts),
        version: pg.version,
        instanceClass: pg.instanceClass,
        storageGb: pg.storageGb,
        database: pg.database,
        user: pg.user,
        password: password.value,
        vpcId: r.network.vpc.id,
        subnetIds: r.network.privateSubnetIds(`postgres ${pg.id}`),
        allowFrom: this.clientsOf(r),
        // Cross-region replicas need a customer key and backups on the source.
        kmsKeyArn: replicas.length > 0 ? r.kmsKey().arn : undefined,
        backupRetentionDays: replicas.length > 0 ? 1 : 0,
      });
      const replicaEndpoints = replicas.map((ri, n) => {
        const rr = this.regions[ri]!;
        const replicaParts = [...parts, `replica${n}`];
        const replica = new RdsReadReplica(rr.scope, replicaParts.join('-'), {
          identifier: this.name(rr.scope, ...replicaParts),
          sourceArn: db.db.arn,
          instanceClass: pg.instanceClass,
          storageGb: pg.storageGb,
          vpcId: rr.network.vpc.id,
          subnetIds: rr.network.privateSubnetIds(`postgres ${pg.id} replica`),
          allowFrom: this.clientsOf(rr),
          kmsKeyArn: rr.kmsKey().arn,
        });
        return { region: rr.scope.region, endpoint: replica.db.address };
      });
      return { shard, region: r.scope.region, primary: db.db.address, replicas: replicaEndpoints };
    });
    this.outputs.set('postgres_password', password.value);
    this.outputs.set('shard_endpoints', shardEndpoints);
    if (!sharded) {
      const host = shardEndpoints[0]!.primary;
      this.outputs.set('postgres_endpoint', host);
      this.env.set(pg.id, { PGHOST: host, PGPORT: String(POSTGRES_PORT), PGDATABASE: pg.database, PGUSER: pg.user, PGSSLMODE: 'require' });
    }
  }

  private vm(vm: ComponentOf<'vm'>, sg: LabSecurityGroup, tags: Record<string, string>): void {
    const p = this.primary;
    const hosted = componentsOf(this.d.lab, 'postgres').filter((pg) => pg.hostVm === vm.id);
    if (hosted.length > 1) throw new ValidationError(`${this.node.path}/${vm.id}: hosts ${hosted.length} PostgreSQL servers; one per VM`);
    const pg = hosted[0];
    const readParameterArns: string[] = [];
    const bucketArns: string[] = [];
    let userData: string;
    if (pg !== undefined) {
      const password = this.secret(pg.id, 'password');
      readParameterArns.push(password.parameter!.arn);
      userData = renderTemplate('postgres-host.sh', {
        region: shellQuote(p.scope.region),
        pgVersion: shellQuote(pg.version),
        database: shellQuote(pg.database),
        user: shellQuote(pg.user),
        passwordParameter: shellQuote(password.parameter!.name),
        allowCidr: shellQuote(this.d.allowCidr ?? ''),
        shopSchema: templateLiteral('shop-schema.sql'),
      });
      this.outputs.set('postgres_password', password.value);
    } else {
      const env: Record<string, string> = { AWS_REGION: p.scope.region };
      for (const s of this.hostedServices(vm)) {
        if (s.port > 0) Object.assign(env, { LABFORGE_API_HOST: '0.0.0.0', LABFORGE_API_PORT: String(s.port) });
        for (const used of s.uses) {
          Object.assign(env, this.env.get(used) ?? {});
          const arn = this.bucketArns.get(used);
          if (arn !== undefined && !bucketArns.includes(arn)) bucketArns.push(arn);
        }
      }
      const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      lines.push('# Passwords are not written here: `labforge secrets` prints them.');
      userData = renderTemplate('app-host.sh', { env: lines.join('\n') });
    }
    const server = new LabVm(p.scope, vm.id, {
      name: this.name(undefined, vm.id),
      instanceType: vm.instanceType,
      diskGb: vm.diskGb,
      subnetId: p.network.publicSubnets[0]!.id,
      securityGroupIds: [sg.id],
      userData,
      readParameterArns,
      bucketArns,
      volumeTags: tags,
    });
    this.outputs.set(`${vm.id}_public_ip`, server.publicIp);
    if (pg !== undefined) {
      this.outputs.set('postgres_url', `postgres://${pg.user}@${server.publicIp}:${POSTGRES_PORT}/${pg.database}`);
    }
  }

  /** Peers every pair of regions; routes go into the private route tables of both sides. */
  private peerEveryPair(): void {
    for (let i = 0; i < this.regions.length; i++) {
      for (let j = i + 1; j < this.regions.length; j++) {
        const [a, b] = [this.regions[i]!, this.regions[j]!];
        const side = (r: Region) => ({
          region: r.scope.region,
          provider: r.scope.provider,
          vpcId: r.network.vpc.id,
          cidr: r.network.cidrBlock,
          routeTableIds: r.network.privateRouteTables.map((t) => t.id),
        });
        new RegionPeering(this, `peering-${a.scope.code}-${b.scope.code}`, {
          name: physicalName(this.d.name, [a.scope.code, b.scope.code]),
          requester: side(a),
          accepter: side(b),
        });
      }
    }
  }
}
