// One lab as one TerraformStack: the lab's AWS plan (constructs/model/aws-plan.ts: regions, CIDRs,
// shard placement, ingress, VM environment, outputs, all validated there), rendered as cdktf
// constructs. Each planned element becomes one construct in its region's scope, named by its id;
// what it creates is recorded under its uid, where later elements' refs find it.
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import { awsPlan, type AwsPlan, type Placed } from '../model/aws-plan.js';
import type { Source as PlanSource } from '../model/aws-plan-ingress.js';
import { PlanElements, renderUserData, type Ref } from '../model/aws-plan-values.js';
import type { LabDeployment } from '../model/deployment.js';
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
import { LabSecurityGroup } from './security-group.js';
import { LabVm } from './vm.js';

export interface LabStackProps {
  /** The resolved lab: spec, name, owner, regions, expiry, allowed CIDR. */
  readonly deployment: LabDeployment;
}

export class LabStack extends TerraformStack {
  private readonly plan: AwsPlan;
  private readonly scopes: RegionScope[];
  private readonly networks: LabNetwork[];
  /** What each planned element created: Terraform references by uid. */
  private readonly elements = new PlanElements<string>();

  constructor(scope: Construct, id: string, props: LabStackProps) {
    // Planned (and validated) before the stack joins the app: a bad spec adds nothing.
    const plan = awsPlan(props.deployment);
    super(scope, id);
    this.plan = plan;
    labBackend(this, props.deployment, id);
    new RandomProvider(this, 'random');
    this.scopes = plan.regions.map(
      (r) => new RegionScope(this, r.code, { region: r.region, index: r.index, tags: plan.tags, alias: r.alias }),
    );
    // Global services (IAM, Route 53) are created once, with the first region's provider.
    const global = new Construct(this, 'global');
    this.networks = plan.regions.map(
      ({ network: n }, i) =>
        new LabNetwork(this.scopes[i]!, n.id, {
          name: n.name,
          azs: n.azs,
          regionIndex: n.regionIndex,
          privateSubnets: n.privateSubnets,
          kubernetesSubnetTags: n.kubernetesSubnetTags,
        }),
    );
    const el = this.elements;
    for (const k of plan.kmsKeys) el.add(k.uid, { arn: new LabKmsKey(this.scopeOf(k), k.id, { name: k.name }).arn });
    for (const s of plan.secrets) {
      const secret = new GeneratedSecret(this.scopeOf(s), s.id, { parameterName: s.parameterName, description: s.description });
      el.add(s.uid, { value: secret.value, 'parameter-arn': secret.parameter!.arn, 'parameter-name': secret.parameter!.name });
    }
    for (const g of plan.vmSecurityGroups) {
      const ingress = g.ingress.map((rule) => ({ ...rule, from: el.source(rule.from) }));
      el.add(g.uid, {
        id: new LabSecurityGroup(this.scopeOf(g), g.id, { name: g.name, vpcId: this.vpcOf(g), description: g.description, ingress }).id,
      });
    }
    const roles = plan.eksRoles && new EksRoles(global, plan.eksRoles.id, { name: plan.eksRoles.name });
    for (const c of plan.clusters) {
      const subnetIds = this.privateSubnets(c);
      const cluster = new LabEksCluster(this.scopeOf(c), c.id, {
        ...c.settings,
        roles: roles!,
        subnetIds,
        kmsKeyArn: el.get(c.kmsKey),
        nodeTags: plan.tags,
      });
      const { name, endpoint, certificateAuthority } = cluster.cluster;
      el.add(c.uid, { name, endpoint, ca: certificateAuthority.get(0).data, 'security-group': cluster.clusterSecurityGroupId });
    }
    this.dataServices();
    for (const vm of plan.vms) {
      const userData = renderUserData(vm.userData, (r) => el.get(r));
      const server = new LabVm(this.scopeOf(vm), vm.id, {
        ...vm.settings,
        subnetId: this.networks[vm.region]!.publicSubnets[0]!.id,
        securityGroupIds: [el.get(vm.securityGroup)],
        userData,
        readParameterArns: vm.readParameters.map((r) => el.get(r)),
        bucketArns: vm.buckets.map((r) => el.get(r)),
        volumeTags: plan.tags,
      });
      el.add(vm.uid, { 'public-ip': server.publicIp });
    }
    for (const z of plan.dns) el.add(z.id, { fqdn: new LatencyDns(global, z.id, { zoneName: z.zoneName, regions: z.regions }).fqdn });
    for (const p of plan.peerings)
      new RegionPeering(this, p.id, { name: p.name, requester: this.peeringSide(p.requester), accepter: this.peeringSide(p.accepter) });

    const join = (parts: string[]) => parts.join('');
    for (const o of plan.outputs)
      new TerraformOutput(this, o.name, { value: el.render(o.value, join), description: o.description, sensitive: o.sensitive });
    // What the separate cluster-objects stack (constructs/k8s) configures its Kubernetes provider
    // from, through this stack's state: keeping the two apart lets `destroy` remove the
    // in-cluster objects while the cluster still exists, then the cluster.
    for (const o of plan.clusterOutputs) new TerraformOutput(this, o.name, { value: el.render(o.value, join), description: o.description });

    bindProviders(global, this.scopes[0]!.provider);
    for (const r of this.scopes) r.bindProviders();
  }

  /** Managed PostgreSQL (primaries, then each one's replicas), Redis, RabbitMQ, Kafka, buckets, registries. */
  private dataServices(): void {
    const { plan, elements: el } = this;
    for (const db of plan.databases) {
      const { kmsKey, password } = db;
      const primary = new RdsPostgres(this.scopeOf(db), db.id, {
        ...db.settings,
        password: el.get(password),
        ...this.privateService(db, db.allowFrom),
        kmsKeyArn: kmsKey && el.get(kmsKey),
      });
      el.add(db.uid, { address: primary.db.address, arn: primary.db.arn });
      for (const r of db.replicas) {
        const replica = new RdsReadReplica(this.scopeOf(r), r.id, {
          ...r.settings,
          sourceArn: el.get(r.source),
          ...this.privateService(r, r.allowFrom),
          kmsKeyArn: el.get(r.kmsKey),
        });
        el.add(r.uid, { address: replica.db.address });
      }
    }
    for (const c of plan.redis) {
      const redis = new LabRedis(this.scopeOf(c), c.id, {
        ...c.settings,
        ...this.privateService(c, c.allowFrom),
        authToken: el.get(c.authToken),
      });
      el.add(c.uid, { endpoint: redis.endpoint });
    }
    for (const c of plan.rabbitmq) {
      const { subnetIds, ...service } = this.privateService(c, c.allowFrom);
      const mq = new LabRabbitmq(this.scopeOf(c), c.id, {
        ...c.settings,
        ...service,
        subnetId: subnetIds[0]!,
        password: el.get(c.password),
      });
      el.add(c.uid, { endpoint: mq.amqpEndpoint });
    }
    for (const k of plan.kafka) {
      const kafka = new LabKafka(this.scopeOf(k), k.id, {
        ...k.settings,
        vpcId: this.vpcOf(k),
        subnetIds: this.privateSubnets(k),
        kmsKeyArn: el.get(k.kmsKey),
      });
      el.add(k.uid, { bootstrap: kafka.bootstrapBrokersTls });
    }
    for (const b of plan.buckets) {
      const bucket = new LabBucket(this.scopeOf(b), b.id, b.settings);
      el.add(b.uid, { name: bucket.name, arn: bucket.arn });
    }
    for (const r of plan.registries) {
      const registry = new LabRegistry(this.scopeOf(r), r.id, r.settings);
      for (const [name, url] of Object.entries(registry.urls())) el.add(`${r.uid}/${name}`, { url });
    }
  }

  private scopeOf(p: Placed): RegionScope {
    return this.scopes[p.region]!;
  }

  private vpcOf(p: Placed): string {
    return this.networks[p.region]!.vpc.id;
  }

  private privateSubnets(p: Placed): string[] {
    return this.networks[p.region]!.privateSubnetIds(p.path);
  }

  /** A private data service's network: its region's VPC and private subnets, and who may connect. */
  private privateService(p: Placed, allowFrom: readonly PlanSource<Ref>[]) {
    return { vpcId: this.vpcOf(p), subnetIds: this.privateSubnets(p), allowFrom: allowFrom.map((s) => this.elements.source(s)) };
  }

  private peeringSide(region: number) {
    const network = this.networks[region]!;
    const scope = this.scopes[region]!;
    return {
      region: scope.region,
      provider: scope.provider,
      vpcId: network.vpc.id,
      cidr: network.cidrBlock,
      routeTableIds: network.privateRouteTables.map((t) => t.id),
    };
  }
}
