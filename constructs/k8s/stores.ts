// In-cluster data stores for the `k8s` target (a cluster of the user's own, such as kind): one
// StatefulSet + headless Service per store instance, from the official images, with passwords
// from the lab Secret that `labforge up` creates. Data lives in emptyDirs: a practice lab keeps
// nothing after `down` (no PersistentVolumeClaims left behind).
import { createHash } from 'node:crypto';
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
import { Construct } from 'constructs';
import { KAFKA_CONTROLLER_PORT, storePasswordKey, type DataStorePlan, type KubernetesPlan } from '../model/kubernetes.js';
import type { LabSpec } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { mountScratch, podSecurity, resources, scratchVolumes, securityContext, type ImageUser } from './containers.js';
import { LABEL_COMPONENT, workloadSelector } from './labels.js';

/** How one kind of store runs: image, user, command, environment, probes, writable paths. */
interface StoreRecipe {
  readonly image: string;
  readonly user: ImageUser;
  readonly scratch: Readonly<Record<string, string>>;
  /** Why the root filesystem must stay writable, when it must. */
  readonly writableRoot?: string;
  readonly command?: string[];
  readonly env: (ctx: RecipeContext) => Record<string, kplus.EnvValue>;
  readonly readiness: kplus.Probe;
  readonly liveness: kplus.Probe;
  readonly extraPorts?: readonly number[];
}

interface RecipeContext {
  readonly lab: LabSpec;
  readonly plan: KubernetesPlan;
  readonly store: DataStorePlan;
  readonly name: string;
  readonly secret: kplus.ISecret;
}

function password(ctx: RecipeContext): Record<string, kplus.EnvValue> {
  const key = storePasswordKey(ctx.store.kind);
  return key === undefined ? {} : { [key]: kplus.EnvValue.fromSecretValue({ secret: ctx.secret, key }) };
}

const RECIPES: Record<DataStorePlan['kind'], StoreRecipe> = {
  postgres: {
    image: 'postgres:15-alpine',
    user: { uid: 70, gid: 70 },
    scratch: { data: '/var/lib/postgresql/data', run: '/var/run/postgresql', tmp: '/tmp' },
    env: (ctx) => {
      const pg = componentsOf(ctx.lab, 'postgres').find((p) => p.id === ctx.store.id)!;
      return {
        ...password(ctx),
        POSTGRES_USER: kplus.EnvValue.fromValue(pg.user),
        POSTGRES_DB: kplus.EnvValue.fromValue(pg.database),
        PGDATA: kplus.EnvValue.fromValue('/var/lib/postgresql/data/pgdata'),
      };
    },
    readiness: kplus.Probe.fromCommand(['sh', '-c', 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'], {
      periodSeconds: Duration.seconds(5),
    }),
    liveness: kplus.Probe.fromTcpSocket({ port: 5432, initialDelaySeconds: Duration.seconds(30), periodSeconds: Duration.seconds(10) }),
  },
  redis: {
    image: 'redis:7-alpine',
    user: { uid: 999, gid: 1000 },
    scratch: { data: '/data', tmp: '/tmp' },
    // The password goes in through stdin, not argv, so `ps` in the pod does not show it.
    command: ['sh', '-c', 'exec redis-server - <<EOF\nrequirepass $REDIS_PASSWORD\nsave ""\nappendonly no\ndir /data\nEOF'],
    env: password,
    readiness: kplus.Probe.fromCommand(['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'], {
      periodSeconds: Duration.seconds(5),
    }),
    liveness: kplus.Probe.fromTcpSocket({ port: 6379, initialDelaySeconds: Duration.seconds(10), periodSeconds: Duration.seconds(10) }),
  },
  rabbitmq: {
    image: 'rabbitmq:3-alpine',
    user: { uid: 100, gid: 101 },
    scratch: { data: '/var/lib/rabbitmq', log: '/var/log/rabbitmq', tmp: '/tmp' },
    env: (ctx) => {
      const mq = componentsOf(ctx.lab, 'rabbitmq').find((m) => m.id === ctx.store.id)!;
      return {
        RABBITMQ_DEFAULT_USER: kplus.EnvValue.fromValue(mq.user),
        RABBITMQ_DEFAULT_PASS: kplus.EnvValue.fromSecretValue({ secret: ctx.secret, key: storePasswordKey('rabbitmq')! }),
        RABBITMQ_DEFAULT_VHOST: kplus.EnvValue.fromValue(mq.vhost),
      };
    },
    readiness: kplus.Probe.fromCommand(['rabbitmq-diagnostics', '-q', 'check_port_connectivity'], {
      periodSeconds: Duration.seconds(10),
      timeoutSeconds: Duration.seconds(8),
    }),
    liveness: kplus.Probe.fromTcpSocket({ port: 5672, initialDelaySeconds: Duration.seconds(60), periodSeconds: Duration.seconds(15) }),
  },
  kafka: {
    image: 'apache/kafka:4.1.0',
    user: { uid: 1000, gid: 1000 },
    scratch: { data: '/var/lib/kafka/data', tmp: '/tmp' },
    writableRoot: "the image's start script writes server.properties under /opt/kafka/config at every start",
    // KRaft, every broker also a controller; node id and advertised name from the pod's ordinal.
    command: [
      'sh',
      '-c',
      'export KAFKA_NODE_ID="${HOSTNAME##*-}" KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://${HOSTNAME}.${KAFKA_SERVICE}:9092"; exec /etc/kafka/docker/run',
    ],
    env: (ctx) => {
      const service = `${ctx.name}.${ctx.plan.namespace}.svc`;
      const voters = Array.from({ length: ctx.store.instances }, (_, i) => `${i}@${ctx.name}-${i}.${service}:${KAFKA_CONTROLLER_PORT}`);
      const settings: Record<string, string> = {
        KAFKA_SERVICE: service,
        CLUSTER_ID: clusterId(ctx.plan.lab),
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:9092,CONTROLLER://:${KAFKA_CONTROLLER_PORT}`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters.join(','),
        KAFKA_LOG_DIRS: '/var/lib/kafka/data',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_DEFAULT_REPLICATION_FACTOR: String(ctx.store.instances),
        KAFKA_MIN_INSYNC_REPLICAS: String(Math.max(1, ctx.store.instances - 1)),
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(ctx.store.instances),
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(ctx.store.instances),
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(Math.max(1, ctx.store.instances - 1)),
        KAFKA_HEAP_OPTS: '-Xms512m -Xmx512m',
      };
      return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
    },
    readiness: kplus.Probe.fromTcpSocket({ port: 9092, periodSeconds: Duration.seconds(5) }),
    liveness: kplus.Probe.fromTcpSocket({ port: 9092, initialDelaySeconds: Duration.seconds(60), periodSeconds: Duration.seconds(15) }),
    extraPorts: [KAFKA_CONTROLLER_PORT],
  },
};

/** A KRaft cluster id (16 bytes, base64url) that is the same at every synth of the lab. */
function clusterId(lab: string): string {
  return createHash('sha256').update(`labforge:${lab}`).digest().subarray(0, 16).toString('base64url');
}

export interface InClusterStoreProps {
  readonly lab: LabSpec;
  readonly plan: KubernetesPlan;
  readonly store: DataStorePlan;
  /** Kubernetes name of this instance (storeInstanceNames: `db`, `db-shard1`, `events`). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export class InClusterStore extends Construct {
  /** Kubernetes name of the StatefulSet and its Service (`db`, `db-shard1`, `events`). */
  readonly name: string;

  constructor(scope: Construct, id: string, props: InClusterStoreProps) {
    super(scope, id);
    const { plan, store } = props;
    const recipe = RECIPES[store.kind];
    this.name = props.name;
    const selector = workloadSelector(plan.lab, this.name);
    const labels = { ...props.labels, [LABEL_COMPONENT]: store.id };
    const brokers = store.kind === 'kafka' ? store.instances : 1;
    const ports = [store.port, ...(recipe.extraPorts ?? [])];

    const service = new kplus.Service(this, 'service', {
      metadata: { name: this.name, labels },
      clusterIP: 'None',
      // Kafka's controllers must find each other before any of them is ready.
      publishNotReadyAddresses: store.kind === 'kafka',
      ports: ports.map((port) => ({ name: `tcp-${port}`, port, targetPort: port })),
    });
    for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);

    const set = new kplus.StatefulSet(this, 'statefulset', {
      metadata: { name: this.name, labels },
      service,
      replicas: brokers,
      select: false,
      podMetadata: { labels: { ...labels, ...selector } },
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      ...podSecurity(recipe.user),
    });
    for (const [key, value] of Object.entries(selector)) set.select(kplus.LabelSelector.of({ labels: { [key]: value } }));
    if (recipe.writableRoot !== undefined) set.metadata.addAnnotation('labforge.dev/writable-root', recipe.writableRoot);

    const secret = kplus.Secret.fromSecretName(this, 'secret', plan.secretName);
    const container = set.addContainer({
      name: store.kind,
      image: recipe.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: recipe.command,
      ports: ports.map((number) => ({ number })),
      resources: resources(store.resources),
      securityContext: securityContext(recipe.user, recipe.writableRoot),
      envVariables: recipe.env({ lab: props.lab, plan, store, name: this.name, secret }),
      readiness: recipe.readiness,
      liveness: recipe.liveness,
    });
    mountScratch(this, container, recipe.scratch);
    ApiObject.of(set).addJsonPatch(JsonPatch.add('/spec/template/spec/volumes', scratchVolumes(recipe.scratch)));
  }
}
