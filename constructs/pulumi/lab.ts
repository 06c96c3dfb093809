// One lab as one Pulumi ComponentResource (`labforge:aws:Lab`): the lab's AWS plan
// (constructs/model/aws-plan.ts: regions, CIDRs, shard placement, ingress, VM environment,
// outputs, all validated there), rendered as labforge components. Each planned element becomes
// one component named `<lab>-<uid>`, with its region's explicit provider; what it creates is
// recorded under its uid, where later elements' refs find it. Global services (IAM, Route 53)
// use the first region's provider.
import * as pulumi from '@pulumi/pulumi';
import { awsPlan, type AwsPlan, type Placed } from '../model/aws-plan.js';
import type { Source as PlanSource } from '../model/aws-plan-ingress.js';
import { PlanElements, renderUserData, userDataRefs, type Ref, type UserDataPlan } from '../model/aws-plan-values.js';
import type { LabDeployment } from '../model/deployment.js';
import { Kafka, Rabbitmq, Redis } from './data-services.js';
import { LatencyDns } from './dns.js';
import { EksCluster, EksRoles } from './eks.js';
import { KmsKey } from './kms.js';
import { Network } from './network.js';
import { RegionPeering } from './peering.js';
import { Postgres, PostgresReplica } from './postgres.js';
import { LabRegion, componentType } from './region.js';
import { GeneratedSecret } from './secret.js';
import { SecurityGroup } from './security-group.js';
import { Bucket, Registry } from './storage.js';
import { Vm } from './vm.js';

export interface LabforgeLabArgs {
  /** The resolved lab: spec, name, owner, regions, expiry, allowed CIDR. */
  readonly deployment: LabDeployment;
}

export class LabforgeLab extends pulumi.ComponentResource {
  /** The lab's outputs by name (the LabSpec's outputs, plus the EKS cluster outputs). */
  readonly outputs: Record<string, pulumi.Output<unknown>> = {};
  readonly labName: string;
  private readonly plan: AwsPlan;
  private readonly regions: LabRegion[];
  private readonly networks: Network[];
  /** What each planned element created, by uid. */
  private readonly elements = new PlanElements<pulumi.Input<string>>();

  constructor(name: string, args: LabforgeLabArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planned (and validated) before the component registers: a bad spec registers nothing.
    const plan = awsPlan(args.deployment);
    super(componentType('Lab'), name, {}, opts);
    this.plan = plan;
    this.labName = name;
    this.regions = plan.regions.map((r) => new LabRegion(r.region, r.index, plan.tags, this));
    this.networks = plan.regions.map(({ network: n }, i) => {
      const { name: tagName, azs, regionIndex, privateSubnets, kubernetesSubnetTags } = n;
      return new Network(
        this.nameOf(n.uid),
        { name: tagName, azs, regionIndex, privateSubnets, kubernetesSubnetTags },
        this.regions[i]!.opts(this),
      );
    });
    const el = this.elements;
    for (const k of plan.kmsKeys) el.add(k.uid, { arn: new KmsKey(this.nameOf(k.uid), { alias: k.name }, this.optsOf(k)).arn });
    for (const s of plan.secrets) {
      const secret = new GeneratedSecret(
        this.nameOf(s.uid),
        { parameterName: s.parameterName, description: s.description },
        this.optsOf(s),
      );
      el.add(s.uid, { value: secret.value, 'parameter-arn': secret.parameter!.arn, 'parameter-name': secret.parameter!.name });
    }
    for (const g of plan.vmSecurityGroups) {
      const ingress = g.ingress.map((rule) => ({ ...rule, from: el.source(rule.from) }));
      const sg = new SecurityGroup(
        this.nameOf(g.uid),
        { name: g.name, vpcId: this.vpcOf(g), description: g.description, ingress },
        this.optsOf(g),
      );
      el.add(g.uid, { id: sg.id });
    }
    const primary = this.regions[0]!.opts(this);
    const roles = plan.eksRoles && new EksRoles(this.nameOf(plan.eksRoles.id), { name: plan.eksRoles.name }, primary);
    for (const c of plan.clusters) {
      const settings = {
        ...c.settings,
        roles: roles!,
        subnetIds: this.privateSubnets(c),
        kmsKeyArn: el.get(c.kmsKey),
        nodeTags: plan.tags,
      };
      const cluster = new EksCluster(this.nameOf(c.uid), settings, this.optsOf(c));
      const { name: clusterName, endpoint, certificateAuthority } = cluster.cluster;
      el.add(c.uid, { name: clusterName, endpoint, ca: certificateAuthority.data, 'security-group': cluster.clusterSecurityGroupId });
    }
    this.dataServices();
    for (const vm of plan.vms) {
      const server = new Vm(
        this.nameOf(vm.uid),
        {
          ...vm.settings,
          subnetId: this.networks[vm.region]!.publicSubnets[0]!.id,
          securityGroupIds: [el.get(vm.securityGroup)],
          userData: this.userData(vm.userData),
          readParameterArns: vm.readParameters.map((r) => el.get(r)),
          bucketArns: vm.buckets.map((r) => el.get(r)),
          volumeTags: plan.tags,
        },
        this.optsOf(vm),
      );
      el.add(vm.uid, { 'public-ip': server.publicIp });
    }
    for (const z of plan.dns)
      el.add(z.id, { fqdn: new LatencyDns(this.nameOf(z.id), { zoneName: z.zoneName, regions: z.regions }, primary).fqdn });
    for (const p of plan.peerings) {
      new RegionPeering(
        this.nameOf(p.id),
        { name: p.name, requester: this.peeringSide(p.requester), accepter: this.peeringSide(p.accepter) },
        { parent: this },
      );
    }

    const join = (parts: pulumi.Input<string>[]) => pulumi.concat(...parts);
    for (const o of plan.clusterOutputs) this.outputs[o.name] = pulumi.output(el.render(o.value, join));
    for (const o of plan.outputs) {
      const value = el.render(o.value, join);
      this.outputs[o.name] = o.sensitive ? pulumi.secret(value) : pulumi.output(value);
    }
    this.registerOutputs(this.outputs);
  }

  /** Managed PostgreSQL (primaries, then each one's replicas), Redis, RabbitMQ, Kafka, buckets, registries. */
  private dataServices(): void {
    const { plan, elements: el } = this;
    for (const db of plan.databases) {
      const { kmsKey, password } = db;
      const settings = {
        ...db.settings,
        password: el.get(password),
        ...this.privateService(db, db.allowFrom),
        kmsKeyArn: kmsKey && el.get(kmsKey),
      };
      const primary = new Postgres(this.nameOf(db.uid), settings, this.optsOf(db));
      el.add(db.uid, { address: primary.db.address, arn: primary.db.arn });
      for (const r of db.replicas) {
        const replicaSettings = {
          ...r.settings,
          sourceArn: el.get(r.source),
          ...this.privateService(r, r.allowFrom),
          kmsKeyArn: el.get(r.kmsKey),
        };
        el.add(r.uid, { address: new PostgresReplica(this.nameOf(r.uid), replicaSettings, this.optsOf(r)).db.address });
      }
    }
    for (const c of plan.redis) {
      const redis = new Redis(
        this.nameOf(c.uid),
        { ...c.settings, ...this.privateService(c, c.allowFrom), authToken: el.get(c.authToken) },
        this.optsOf(c),
      );
      el.add(c.uid, { endpoint: redis.group.primaryEndpointAddress });
    }
    for (const c of plan.rabbitmq) {
      const mq = new Rabbitmq(
        this.nameOf(c.uid),
        { ...c.settings, ...this.privateService(c, c.allowFrom), password: el.get(c.password) },
        this.optsOf(c),
      );
      el.add(c.uid, { endpoint: mq.amqpEndpoint });
    }
    for (const k of plan.kafka) {
      const kafka = new Kafka(
        this.nameOf(k.uid),
        { ...k.settings, vpcId: this.vpcOf(k), subnetIds: this.privateSubnets(k), kmsKeyArn: el.get(k.kmsKey) },
        this.optsOf(k),
      );
      el.add(k.uid, { bootstrap: kafka.cluster.bootstrapBrokersTls });
    }
    for (const b of plan.buckets) {
      const { bucket } = new Bucket(this.nameOf(b.uid), b.settings, this.optsOf(b));
      el.add(b.uid, { name: bucket.bucket, arn: bucket.arn });
    }
    for (const r of plan.registries) {
      const registry = new Registry(this.nameOf(r.uid), r.settings, this.optsOf(r));
      for (const [name, url] of Object.entries(registry.urls)) el.add(`${r.uid}/${name}`, { url });
    }
  }

  /** Logical (Pulumi) name: unique per lab, region and component. */
  private nameOf(uid: string): string {
    return `${this.labName}-${uid}`;
  }

  private optsOf(p: Placed): pulumi.ComponentResourceOptions {
    return this.regions[p.region]!.opts(this);
  }

  private vpcOf(p: Placed): pulumi.Output<string> {
    return this.networks[p.region]!.vpc.id;
  }

  private privateSubnets(p: Placed): pulumi.Output<string>[] {
    return this.networks[p.region]!.privateSubnetIds(p.path);
  }

  /** A private data service's network: its region's VPC and private subnets, and who may connect. */
  private privateService(p: Placed, allowFrom: readonly PlanSource<Ref>[]) {
    return { vpcId: this.vpcOf(p), subnetIds: this.privateSubnets(p), allowFrom: allowFrom.map((s) => this.elements.source(s)) };
  }

  /** The user data once its refs resolve; Pulumi fills in resolved values, so no Terraform escaping. */
  private userData(u: UserDataPlan): pulumi.Output<string> {
    const refs = userDataRefs(u);
    return pulumi
      .all(refs.map((r) => this.elements.get(r)))
      .apply((values) => renderUserData(u, (r) => values[refs.indexOf(r)]!, { terraform: false }));
  }

  private peeringSide(region: number) {
    const { vpc, cidrBlock, privateRouteTables } = this.networks[region]!;
    const { region: name, provider } = this.regions[region]!;
    return { region: name, provider, vpcId: vpc.id, cidr: cidrBlock, routeTableIds: privateRouteTables.map((t) => t.id) };
  }
}
