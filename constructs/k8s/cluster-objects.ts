// The cluster-level Kubernetes objects of a lab with a kubernetes-cluster component, as a Terraform
// stack of its own (`<lab>-k8s`), separate from the stack that creates the EKS clusters.
//
// Why separate: a Kubernetes provider configured from attributes of an EKS cluster in the SAME
// stack cannot be configured during `destroy` (or a plan that replaces the cluster), and then
// the in-cluster objects cannot be removed. Here each region's provider is configured from the
// cluster stack's OUTPUTS, read from its state with terraform_remote_state, so:
//   apply:   `<lab>` (clusters, data stores), then `<lab>-k8s`
//   destroy: `<lab>-k8s` first, while the clusters still exist, then `<lab>`
import { Fn, TerraformOutput, type TerraformRemoteState, TerraformStack, Token, propertyAccess, type IResolvable } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { LabDeployment } from '../model/deployment.js';
import { AMQPS_PORT } from '../model/aws.js';
import { ValidationError } from '../model/errors.js';
import { STORE_PORTS, kubernetesPlan, type KubernetesPlan } from '../model/kubernetes.js';
import { clusterOutputNames, k8sLearnerGroup, k8sNamespace, physicalName, regionCode } from '../model/names.js';
import { componentsOf } from '../model/validate.js';
import { LABEL_PARTICIPANT, labLabels } from './labels.js';
import { LabNamespace } from './lab-namespace.js';
import { amqpUrl, Encoded, postgresUrl, redisUrl } from '../model/urls.js';

/** Length of the generated JWT signing key (letters and digits: ~285 bits). */
export const JWT_SECRET_LENGTH = 48;

export interface ClusterObjectsStackProps {
  /** The resolved lab; it must have a kubernetes-cluster component (one cluster per region). */
  readonly deployment: LabDeployment;
  /**
   * Workshop participants: each gets a namespace of their own, `k8sNamespace(lab, participant)`,
   * in every region, with the same quota, Secret and ConfigMap as the lab namespace and the
   * learner Role bound to their own group. Names are DNS labels.
   * @default none: only the lab namespace
   */
  readonly participants?: readonly string[];
  /**
   * Where this stack keeps its state and how it reads the cluster stack's: given by the app that
   * composes both stacks (the aws engine's local files or S3 objects), so this engine does not
   * import the other one.
   */
  readonly state: StackStateWiring;
}

/** How a stack of the lab declares its backend and reads the cluster stack's outputs. */
export interface StackStateWiring {
  /** Declares where `stack` (named `stackName`) keeps its state. */
  backend(stack: TerraformStack, d: LabDeployment, stackName: string): void;
  /** The outputs of the lab's cluster stack, wherever its state lives. */
  clusterOutputs(stack: TerraformStack, id: string, d: LabDeployment): TerraformRemoteState;
}

/** One namespace to create in every region. */
interface NamespaceSpec {
  readonly name: string;
  readonly participant?: string;
  readonly learnerGroup: string;
}

export class ClusterObjectsStack extends TerraformStack {
  /** The plan the objects are rendered from (names, Secret keys, quota). */
  readonly plan: KubernetesPlan;
  private readonly d: LabDeployment;
  private readonly cluster: TerraformRemoteState;

  constructor(scope: Construct, id: string, props: ClusterObjectsStackProps) {
    super(scope, id);
    const d = props.deployment;
    this.d = d;
    if (componentsOf(d.lab, 'kubernetes-cluster').length === 0) {
      throw new ValidationError(`${this.node.path}: the ${d.lab.level} lab has no kubernetes-cluster component; it has no cluster objects`);
    }
    if (d.regions.length === 0) throw new ValidationError(`${this.node.path}: the deployment lists no region`);
    this.plan = kubernetesPlan(d, 'managed');
    const namespaces = this.namespaces(props.participants ?? []);

    // Its own state; the cluster stack's outputs (endpoints, CAs) read from where that one keeps its state.
    props.state.backend(this, d, id);
    this.cluster = props.state.clusterOutputs(this, 'cluster', d);
    new RandomProvider(this, 'random');
    const secretData = this.secretData();
    const multiRegion = d.regions.length > 1;
    const byRegion: Record<string, string[]> = {};

    for (const region of d.regions) {
      const code = regionCode(region);
      const scope = new Construct(this, code);
      const out = clusterOutputNames(region);
      // Authenticates as whoever runs terraform (the cluster creator is the cluster's admin).
      const provider = new KubernetesProvider(scope, 'kubernetes', {
        alias: multiRegion ? code : undefined,
        host: this.cluster.getString(out.endpoint),
        clusterCaCertificate: Fn.base64decode(this.cluster.getString(out.ca)),
        exec: [
          {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: ['eks', 'get-token', '--cluster-name', this.cluster.getString(out.name), '--region', region],
          },
        ],
      });
      const endpointsData = this.endpointsData(region);
      for (const ns of namespaces) {
        const labels = {
          ...labLabels(d.name, d.lab.level, region),
          ...(ns.participant === undefined ? {} : { [LABEL_PARTICIPANT]: ns.participant }),
        };
        new LabNamespace(scope, ns.participant === undefined ? 'lab' : `participant-${ns.participant}`, {
          provider,
          name: ns.name,
          labels,
          quota: this.plan.quota,
          objectNames: {
            quota: physicalName(d.name, ['quota']),
            limits: physicalName(d.name, ['limits']),
            role: physicalName(d.name, ['learner']),
          },
          learnerGroup: ns.learnerGroup,
          secretName: this.plan.secretName,
          secretData,
          endpointsName: this.plan.endpointsName,
          endpointsData,
        });
      }
      byRegion[region] = namespaces.map((ns) => ns.name);
    }

    new TerraformOutput(this, 'namespaces', {
      value: byRegion,
      description: 'Namespaces of the lab per region (the lab namespace first, then one per participant)',
    });
    new TerraformOutput(this, 'secret_name', {
      value: this.plan.secretName,
      description: 'Secret with the connection URLs, in every namespace',
    });
    new TerraformOutput(this, 'endpoints_config_map', {
      value: this.plan.endpointsName,
      description: 'ConfigMap of data-store endpoints, in every namespace',
    });
  }

  /** The lab namespace, then one per participant (validated: DNS labels, unique, not cut short). */
  private namespaces(participants: readonly string[]): NamespaceSpec[] {
    const lab = this.d.name;
    const specs: NamespaceSpec[] = [{ name: this.plan.namespace, learnerGroup: k8sLearnerGroup(lab) }];
    for (const p of participants) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p)) {
        throw new ValidationError(`${this.node.path}: participant '${p}' must be lowercase letters, digits and inner hyphens`);
      }
      const name = k8sNamespace(lab, p);
      if (name !== `lf-${lab}-${p}`)
        throw new ValidationError(`${this.node.path}: participant '${p}' makes namespace '${name}' too long (at most 63 characters)`);
      if (specs.some((s) => s.name === name)) throw new ValidationError(`${this.node.path}: participant '${p}' is listed twice`);
      specs.push({ name, participant: p, learnerGroup: k8sLearnerGroup(lab, p) });
    }
    return specs;
  }

  /** A cluster stack output (a reference); throws when the lab's spec does not export it. */
  private outputRef(name: string, forKey: string): IResolvable {
    if (!this.d.lab.outputs.some((o) => o.name === name)) {
      throw new ValidationError(
        `${this.node.path}: key ${forKey} needs output '${name}' of the cluster stack, which the ${this.d.lab.level} lab does not export`,
      );
    }
    return this.cluster.get(name);
  }

  private output(name: string, forKey: string): string {
    return Token.asString(this.outputRef(name, forKey));
  }

  /**
   * The lab Secret: exactly the plan's keys, each value built from cluster stack outputs (or this
   * stack's own random_password), so the JSON holds references, never a literal password.
   * Passwords are urlencode()d into the URLs (they are letters and digits today; this keeps the
   * URLs valid if that ever changes).
   */
  private secretData(): Record<string, string> {
    const lab = this.d.lab;
    const data: Record<string, string> = {};
    const pg = componentsOf(lab, 'postgres').find((c) => c.hostVm === undefined);
    const pgUrl = (host: string, key: string) => {
      if (pg === undefined) throw new ValidationError(`${this.node.path}: Secret key ${key} needs a managed postgres component`);
      const password = new Encoded(Fn.urlencode(this.output('postgres_password', key)));
      return postgresUrl({
        host,
        port: STORE_PORTS.postgres,
        user: pg.user,
        password,
        database: pg.database,
        params: { sslmode: 'require' },
      });
    };
    for (const key of this.plan.secretKeys) {
      switch (key) {
        case 'DATABASE_URL':
          data[key] = pgUrl(this.output('postgres_endpoint', key), key);
          break;
        case 'SHARDS': {
          // shard_endpoints lists the shards in shard order (see LabStack.managedPostgres).
          const endpoints = this.outputRef('shard_endpoints', key);
          const urls = Array.from({ length: pg?.shards ?? 0 }, (_, shard) =>
            pgUrl(Token.asString(propertyAccess(endpoints, [shard, 'primary'])), key),
          );
          data[key] = Fn.jsonencode(urls);
          break;
        }
        case 'REDIS_URL':
          // ElastiCache with an AUTH token: the `default` user, TLS (rediss).
          data[key] = redisUrl({
            host: this.output('redis_endpoint', key),
            port: STORE_PORTS.redis,
            password: new Encoded(Fn.urlencode(this.output('redis_auth_token', key))),
            tls: true,
          });
          break;
        case 'AMQP_URL': {
          // mq_amqp_endpoint is `amqps://<host>:5671` (Amazon MQ's AMQPS port). Its vhost is the
          // default `/` (the aws stack creates no `lab` vhost).
          const mq = componentsOf(lab, 'rabbitmq')[0];
          if (mq === undefined) throw new ValidationError(`${this.node.path}: Secret key ${key} needs a rabbitmq component`);
          const host = Token.asString(Fn.element(Fn.split(':', Fn.trimprefix(this.output('mq_amqp_endpoint', key), 'amqps://')), 0));
          data[key] = amqpUrl({
            host: Token.asString(host),
            port: AMQPS_PORT,
            user: mq.user,
            password: new Encoded(Fn.urlencode(this.output('mq_password', key))),
            vhost: '/',
            tls: true,
          });
          break;
        }
        case 'JWT_SECRET':
          // One key for every region and namespace: a token issued in one region is valid in all.
          data[key] = new Password(this, 'jwt-secret', {
            length: JWT_SECRET_LENGTH,
            special: false,
            minNumeric: 2,
            minUpper: 2,
            minLower: 2,
          }).result;
          break;
        default:
          throw new ValidationError(`${this.node.path}: no value for Secret key ${key} on a managed (aws) lab`);
      }
    }
    return data;
  }

  /** Endpoints that are not secret: this region's Kafka bootstrap brokers (TLS) when the lab has Kafka. */
  private endpointsData(region: string): Record<string, string> {
    if (componentsOf(this.d.lab, 'kafka').length === 0) return {};
    const bootstrap = this.outputRef('kafka_bootstrap', 'KAFKA_BROKERS');
    return { KAFKA_BROKERS: Token.asString(propertyAccess(bootstrap, [region])) };
  }
}
