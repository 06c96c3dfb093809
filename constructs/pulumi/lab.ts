// One lab as one Pulumi ComponentResource (`labforge:aws:Lab`), composed from the same LabSpec
// and the same placement rules as the cdktf engine (constructs/aws/lab-stack.ts):
//   network, kubernetes-cluster, kafka      every region
//   postgres (managed)                      shard primaries round-robin, replicas in other regions
//   postgres (hostVm)                       on its VM, set up by cloud-init
//   vm, redis, rabbitmq, bucket, registry   the first (primary) region
//   load-balancer with globalDns            Route 53 latency records over every region
// Global services (IAM, Route 53) use the first region's provider, as in the cdktf engine.
import * as pulumi from '@pulumi/pulumi';
import { POSTGRES_PORT, REDIS_PORT } from '../model/aws.js';
import { placeShards } from '../model/aws-plan.js';
import { renderTemplate, shellQuote, templateLiteral } from '../model/cloud-init.js';
import type { LabDeployment } from '../model/deployment.js';
import { clusterOutputNames, dnsZoneName, physicalName } from '../model/names.js';
import { labTags } from '../model/tags.js';
import type { Component, ComponentOf } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { Kafka, Rabbitmq, Redis } from './data-services.js';
import { LatencyDns } from './dns.js';
import { EksCluster, EksRoles } from './eks.js';
import { KmsKey } from './kms.js';
import { Network } from './network.js';
import { RegionPeering } from './peering.js';
import { Postgres, PostgresReplica } from './postgres.js';
import { LabRegion, componentType } from './region.js';
import { GeneratedSecret } from './secret.js';
import { SecurityGroup, type IngressRule, type Source } from './security-group.js';
import { Bucket, Registry } from './storage.js';
import { Vm } from './vm.js';

export interface LabforgeLabArgs {
  /** The resolved lab: spec, name, owner, regions, expiry, allowed CIDR. */
  readonly deployment: LabDeployment;
}

/** What one region of the lab holds while the lab is being composed. */
class Region {
  readonly clientGroups: pulumi.Output<string>[] = [];
  network!: Network;
  private key?: KmsKey;

  constructor(
    readonly scope: LabRegion,
    private readonly lab: LabforgeLab,
    private readonly keyAlias: string,
  ) {}

  /** The region's lab KMS key, created on first use. */
  kmsKey(): KmsKey {
    this.key ??= new KmsKey(`${this.lab.labName}-${this.scope.code}-kms`, { alias: this.keyAlias }, this.scope.opts(this.lab));
    return this.key;
  }
}

export class LabforgeLab extends pulumi.ComponentResource {
  /** The lab's outputs by name (the LabSpec's outputs, plus the EKS cluster outputs). */
  readonly outputs: Record<string, pulumi.Output<unknown>> = {};
  readonly labName: string;
  private readonly d: LabDeployment;
  private readonly regions: Region[];
  private readonly multiRegion: boolean;
  private readonly tags: Record<string, string>;
  private readonly env = new Map<string, Record<string, pulumi.Input<string>>>();
  private readonly bucketArns = new Map<string, pulumi.Output<string>>();
  private readonly values = new Map<string, pulumi.Input<unknown>>();
  private eksRoles?: EksRoles;

  constructor(name: string, args: LabforgeLabArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType('Lab'), name, {}, opts);
    const d = (this.d = args.deployment);
    this.labName = name;
    if (d.regions.length === 0) throw new Error(`${name}: the deployment lists no region`);
    this.tags = labTags({ lab: d.name, level: d.lab.level, owner: d.owner, expiresAt: d.expiresAt });
    this.multiRegion = d.regions.length > 1;
    this.regions = d.regions.map((region, index) => {
      const scope = new LabRegion(region, index, this.tags, this);
      return new Region(scope, this, this.physical(scope, 'key'));
    });

    const lab = d.lab;
    const network = componentsOf(lab, 'network')[0];
    if (!network) throw new Error(`${name}: the lab has no network component`);
    const hasCluster = componentsOf(lab, 'kubernetes-cluster').length > 0;
    for (const r of this.regions) {
      r.network = new Network(
        this.logical(r, network.id),
        { name: this.physical(r.scope), azs: network.azs, regionIndex: r.scope.index, privateSubnets: network.privateSubnets, kubernetesSubnetTags: hasCluster },
        r.scope.opts(this),
      );
    }
    const vmGroups = new Map(componentsOf(lab, 'vm').map((vm) => [vm.id, this.vmSecurityGroup(vm)]));
    for (const k8s of componentsOf(lab, 'kubernetes-cluster')) this.cluster(k8s);
    for (const c of lab.components) this.dataComponent(c);
    for (const vm of componentsOf(lab, 'vm')) this.vm(vm, vmGroups.get(vm.id)!);
    for (const lb of componentsOf(lab, 'load-balancer')) {
      if (!lb.globalDns) continue;
      const dns = new LatencyDns(`${name}-${lb.id}`, { zoneName: dnsZoneName(d.name), regions: d.regions }, this.primary.scope.opts(this));
      this.values.set('api_dns_name', dns.fqdn);
    }
    if (network.privateSubnets) this.peerEveryPair();

    this.values.set('regions', [...d.regions]);
    for (const spec of lab.outputs) {
      const value = this.values.get(spec.name);
      if (value === undefined) throw new Error(`${name}: output '${spec.name}' of the ${lab.level} lab has no value in the pulumi engine`);
      this.outputs[spec.name] = spec.sensitive ? pulumi.secret(value) : pulumi.output(value);
    }
    this.registerOutputs(this.outputs);
  }

  private get primary(): Region {
    return this.regions[0]!;
  }

  /** Physical name; in multi-region labs regional names carry the region code. */
  private physical(region: LabRegion | undefined, ...parts: string[]): string {
    const regional = region !== undefined && this.multiRegion ? [region.code] : [];
    return physicalName(this.d.name, [...regional, ...parts]);
  }

  /** Logical (Pulumi) name: unique per lab, region and component. */
  private logical(region: Region | undefined, ...parts: string[]): string {
    return [this.labName, ...(region ? [region.scope.code] : []), ...parts].join('-');
  }

  /** The clients' security groups, or with several regions the lab's VPC CIDRs. */
  private clientsOf(region: Region): Source[] {
    if (this.multiRegion) return this.regions.map((r) => ({ cidr: r.network.cidrBlock }));
    return region.clientGroups.map((securityGroupId) => ({ securityGroupId }));
  }

  private secret(componentId: string, what: string): GeneratedSecret {
    return new GeneratedSecret(
      this.logical(undefined, componentId, what),
      { parameterName: `/labforge/${this.d.name}/${componentId}/${what}`, description: `labforge ${this.d.name}: ${componentId} ${what}` },
      this.primary.scope.opts(this),
    );
  }

  /** Services with no cluster to run on are hosted by the app VMs. */
  private hostedServices(vm: ComponentOf<'vm'>): ComponentOf<'service'>[] {
    if (vm.role !== 'app-host' || componentsOf(this.d.lab, 'kubernetes-cluster').length > 0) return [];
    return componentsOf(this.d.lab, 'service');
  }

  private vmSecurityGroup(vm: ComponentOf<'vm'>): SecurityGroup {
    const cidr = this.d.allowCidr;
    const ports: [number, string][] = [[22, 'SSH']];
    if (componentsOf(this.d.lab, 'postgres').some((p) => p.hostVm === vm.id)) ports.push([POSTGRES_PORT, 'PostgreSQL']);
    for (const s of this.hostedServices(vm)) if (s.port > 0) ports.push([s.port, `${s.id} service`]);
    // No allowed CIDR: no ingress at all (reach the VM through the console or SSM instead).
    const ingress: IngressRule[] = cidr === undefined ? [] : ports.map(([port, what]) => ({ port, from: { cidr }, description: `${what} from the allowed CIDR` }));
    const sg = new SecurityGroup(
      this.logical(undefined, vm.id, 'sg'),
      { name: this.physical(undefined, vm.id), vpcId: this.primary.network.vpc.id, description: `${vm.id}: reachable only from the allowed CIDR`, ingress },
      this.primary.scope.opts(this),
    );
    this.primary.clientGroups.push(sg.id);
    return sg;
  }

  private cluster(k8s: ComponentOf<'kubernetes-cluster'>): void {
    this.eksRoles ??= new EksRoles(this.logical(undefined, 'eks-roles'), { name: physicalName(this.d.name, []) }, this.primary.scope.opts(this));
    const names: Record<string, pulumi.Output<string>> = {};
    for (const r of this.regions) {
      const cluster = new EksCluster(
        this.logical(r, k8s.id),
        {
          name: this.physical(r.scope, k8s.id),
          version: k8s.version,
          roles: this.eksRoles,
          subnetIds: r.network.privateSubnetIds(`cluster ${k8s.id}`),
          kmsKeyArn: r.kmsKey().arn,
          publicAccessCidr: this.d.allowCidr,
          nodeInstanceType: k8s.nodeInstanceType,
          minNodes: k8s.minNodes,
          maxNodes: k8s.maxNodes,
          desiredNodes: k8s.desiredNodes,
          nodeTags: this.tags,
        },
        r.scope.opts(this),
      );
      r.clientGroups.push(cluster.clusterSecurityGroupId);
      names[r.scope.region] = cluster.cluster.name;
      const out = clusterOutputNames(r.scope.region);
      this.outputs[out.name] = cluster.cluster.name;
      this.outputs[out.endpoint] = cluster.cluster.endpoint;
      this.outputs[out.ca] = cluster.cluster.certificateAuthority.data;
    }
    this.values.set('eks_cluster_name', names[this.d.regions[0]!]);
    this.values.set('eks_cluster_names', names);
  }

  private dataComponent(c: Component): void {
    const p = this.primary;
    switch (c.kind) {
      case 'postgres':
        if (c.hostVm === undefined) this.managedPostgres(c);
        return;
      case 'redis': {
        const token = this.secret(c.id, 'auth-token');
        const redis = new Redis(
          this.logical(undefined, c.id),
          { name: physicalName(this.d.name, [c.id], 40), nodeType: c.nodeType, vpcId: p.network.vpc.id, subnetIds: p.network.privateSubnetIds(`redis ${c.id}`), allowFrom: this.clientsOf(p), authToken: token.value },
          p.scope.opts(this),
        );
        this.values.set('redis_endpoint', redis.group.primaryEndpointAddress);
        this.values.set('redis_auth_token', token.value);
        this.env.set(c.id, { REDIS_HOST: redis.group.primaryEndpointAddress, REDIS_PORT: String(REDIS_PORT), REDIS_TLS: 'true' });
        return;
      }
      case 'rabbitmq': {
        const password = this.secret(c.id, 'password');
        const mq = new Rabbitmq(
          this.logical(undefined, c.id),
          {
            name: this.physical(undefined, c.id),
            instanceType: c.instanceType,
            vpcId: p.network.vpc.id,
            subnetIds: p.network.privateSubnetIds(`rabbitmq ${c.id}`),
            allowFrom: this.clientsOf(p),
            user: c.user,
            password: password.value,
          },
          p.scope.opts(this),
        );
        this.values.set('mq_amqp_endpoint', mq.amqpEndpoint);
        this.values.set('mq_password', password.value);
        return;
      }
      case 'kafka': {
        const bootstrap: Record<string, pulumi.Output<string>> = {};
        for (const r of this.regions) {
          const kafka = new Kafka(
            this.logical(r, c.id),
            {
              name: this.physical(r.scope, c.id),
              brokers: c.brokers,
              instanceType: c.instanceType,
              vpcId: r.network.vpc.id,
              subnetIds: r.network.privateSubnetIds(`kafka ${c.id}`),
              allowCidrs: this.regions.map((o) => o.network.cidrBlock),
              kmsKeyArn: r.kmsKey().arn,
            },
            r.scope.opts(this),
          );
          bootstrap[r.scope.region] = kafka.cluster.bootstrapBrokersTls;
        }
        this.values.set('kafka_bootstrap', bootstrap);
        return;
      }
      case 'bucket': {
        const bucket = new Bucket(this.logical(undefined, c.id), { namePrefix: `${physicalName(this.d.name, [c.id], 36)}-` }, p.scope.opts(this));
        this.bucketArns.set(c.id, bucket.bucket.arn);
        this.values.set(`${c.id}_bucket`, bucket.bucket.bucket);
        this.env.set(c.id, { [`${c.id.toUpperCase()}_BUCKET`]: bucket.bucket.bucket });
        return;
      }
      case 'registry': {
        const registry = new Registry(this.logical(undefined, c.id), { namespace: physicalName(this.d.name, []), repositories: c.repositories }, p.scope.opts(this));
        this.values.set('ecr_repository_urls', registry.urls);
        return;
      }
      default:
        return;
    }
  }

  private managedPostgres(pg: ComponentOf<'postgres'>): void {
    const password = this.secret(pg.id, 'password');
    const sharded = pg.shards > 1;
    const shardEndpoints = placeShards(pg.shards, pg.replicas, this.regions.length).map(({ shard, primary, replicas }) => {
      const r = this.regions[primary]!;
      const parts = sharded ? [pg.id, `shard${shard}`] : [pg.id];
      const common = { instanceClass: pg.instanceClass, storageGb: pg.storageGb };
      const db = new Postgres(
        this.logical(r, ...parts),
        {
          ...common,
          identifier: this.physical(r.scope, ...parts),
          version: pg.version,
          database: pg.database,
          user: pg.user,
          password: password.value,
          vpcId: r.network.vpc.id,
          subnetIds: r.network.privateSubnetIds(`postgres ${pg.id}`),
          allowFrom: this.clientsOf(r),
          // Cross-region replicas need a customer key and backups on the source.
          kmsKeyArn: replicas.length > 0 ? r.kmsKey().arn : undefined,
          backupRetentionDays: replicas.length > 0 ? 1 : 0,
        },
        r.scope.opts(this),
      );
      const replicaEndpoints = replicas.map((ri, n) => {
        const rr = this.regions[ri]!;
        const replicaParts = [...parts, `replica${n}`];
        const replica = new PostgresReplica(
          this.logical(rr, ...replicaParts),
          {
            ...common,
            identifier: this.physical(rr.scope, ...replicaParts),
            sourceArn: db.db.arn,
            vpcId: rr.network.vpc.id,
            subnetIds: rr.network.privateSubnetIds(`postgres ${pg.id} replica`),
            allowFrom: this.clientsOf(rr),
            kmsKeyArn: rr.kmsKey().arn,
          },
          rr.scope.opts(this),
        );
        return { region: rr.scope.region, endpoint: replica.db.address };
      });
      return { shard, region: r.scope.region, primary: db.db.address, replicas: replicaEndpoints };
    });
    this.values.set('postgres_password', password.value);
    this.values.set('shard_endpoints', shardEndpoints);
    if (!sharded) {
      const host = shardEndpoints[0]!.primary;
      this.values.set('postgres_endpoint', host);
      this.env.set(pg.id, { PGHOST: host, PGPORT: String(POSTGRES_PORT), PGDATABASE: pg.database, PGUSER: pg.user, PGSSLMODE: 'require' });
    }
  }

  private vm(vm: ComponentOf<'vm'>, sg: SecurityGroup): void {
    const p = this.primary;
    const hosted = componentsOf(this.d.lab, 'postgres').filter((pg) => pg.hostVm === vm.id);
    if (hosted.length > 1) throw new Error(`${this.labName}/${vm.id}: hosts ${hosted.length} PostgreSQL servers; one per VM`);
    const pg = hosted[0];
    const readParameterArns: pulumi.Output<string>[] = [];
    const bucketArns: pulumi.Output<string>[] = [];
    let userData: pulumi.Output<string>;
    // Pulumi fills in resolved values: no Terraform escaping of the template text.
    const plain = { terraform: false };
    if (pg !== undefined) {
      const password = this.secret(pg.id, 'password');
      readParameterArns.push(password.parameter!.arn);
      userData = password.parameter!.name.apply((parameter) =>
        renderTemplate(
          'postgres-host.sh',
          {
            region: shellQuote(p.scope.region),
            pgVersion: shellQuote(pg.version),
            database: shellQuote(pg.database),
            user: shellQuote(pg.user),
            passwordParameter: shellQuote(parameter),
            allowCidr: shellQuote(this.d.allowCidr ?? ''),
            shopSchema: templateLiteral('shop-schema.sql', plain),
          },
          plain,
        ),
      );
      this.values.set('postgres_password', password.value);
    } else {
      const env: Record<string, pulumi.Input<string>> = { AWS_REGION: p.scope.region };
      for (const s of this.hostedServices(vm)) {
        if (s.port > 0) Object.assign(env, { LABFORGE_API_HOST: '0.0.0.0', LABFORGE_API_PORT: String(s.port) });
        for (const used of s.uses) {
          Object.assign(env, this.env.get(used) ?? {});
          const arn = this.bucketArns.get(used);
          if (arn !== undefined && !bucketArns.includes(arn)) bucketArns.push(arn);
        }
      }
      userData = pulumi.all(env).apply((resolved) => {
        const lines = Object.entries(resolved).map(([k, v]) => `${k}=${v}`);
        lines.push('# Passwords are not written here: `labforge secrets` prints them.');
        return renderTemplate('app-host.sh', { env: lines.join('\n') }, plain);
      });
    }
    const server = new Vm(
      this.logical(undefined, vm.id),
      {
        name: this.physical(undefined, vm.id),
        instanceType: vm.instanceType,
        diskGb: vm.diskGb,
        subnetId: p.network.publicSubnets[0]!.id,
        securityGroupIds: [sg.id],
        userData,
        readParameterArns,
        bucketArns,
        volumeTags: this.tags,
      },
      p.scope.opts(this),
    );
    this.values.set(`${vm.id}_public_ip`, server.publicIp);
    if (pg !== undefined) this.values.set('postgres_url', pulumi.interpolate`postgres://${pg.user}@${server.publicIp}:${POSTGRES_PORT}/${pg.database}`);
  }

  /** Peers every pair of regions; routes go into the private route tables of both sides. */
  private peerEveryPair(): void {
    const side = (r: Region) => ({
      region: r.scope.region,
      provider: r.scope.provider,
      vpcId: r.network.vpc.id,
      cidr: r.network.cidrBlock,
      routeTableIds: r.network.privateRouteTables.map((t) => t.id),
    });
    for (let i = 0; i < this.regions.length; i++) {
      for (let j = i + 1; j < this.regions.length; j++) {
        const [a, b] = [this.regions[i]!, this.regions[j]!];
        new RegionPeering(
          this.logical(undefined, 'peering', a.scope.code, b.scope.code),
          { name: physicalName(this.d.name, [a.scope.code, b.scope.code]), requester: side(a), accepter: side(b) },
          { parent: this },
        );
      }
    }
  }
}
