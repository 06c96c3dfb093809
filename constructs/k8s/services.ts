// One lab service on Kubernetes: its Deployment, and for the API a Service, an autoscaler and a
// disruption budget. The program is the same file the local target runs (templates/), bundled by
// the build and shipped in a ConfigMap to the official Node image: no image to build or push.
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
import { IntOrString, KubePodDisruptionBudget } from 'cdk8s-plus-31/lib/imports/k8s.js';
import { Construct } from 'constructs';
import type { KubernetesPlan, WorkloadPlan } from '../model/kubernetes.js';
import { physicalName } from '../model/names.js';
import { mountScratch, podSecurity, resources, securityContext, type ImageUser } from './containers.js';
import { LABEL_COMPONENT, LABEL_REGION, workloadSelector } from './labels.js';

/** The official Node image; its `node` user is uid/gid 1000. */
export const NODE_IMAGE = 'node:20-alpine';
const NODE_USER: ImageUser = { uid: 1000, gid: 1000 };
/** Where a program's ConfigMap is mounted, and the file its gzipped bundle has there. */
const PROGRAM_DIR = '/opt/labforge';
const HEARTBEAT_FILE = '/tmp/heartbeat';

export interface LabServiceProps {
  readonly plan: KubernetesPlan;
  readonly workload: WorkloadPlan;
  /** Labels of every object of the lab (lab, level, part-of). */
  readonly labels: Readonly<Record<string, string>>;
  /** ConfigMap holding `<program>.mjs.gz` (see programConfigMapName). */
  readonly programConfigMap: kplus.IConfigMap;
  /** The topic the API publishes events to, when the lab has Kafka (its bootstrap is in the endpoints ConfigMap). */
  readonly kafkaTopic?: string;
  /** The brokers listen with TLS only (MSK). @default false */
  readonly kafkaTls?: boolean;
}

/** Name of the ConfigMap that carries a program's bundle. */
export function programConfigMapName(plan: KubernetesPlan, program: string): string {
  return physicalName(plan.lab, ['program', program]);
}

export class LabService extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service?: kplus.Service;

  constructor(scope: Construct, id: string, props: LabServiceProps) {
    super(scope, id);
    const { plan, workload: w } = props;
    const selector = workloadSelector(plan.lab, w.name);
    const podLabels = { ...props.labels, ...selector, [LABEL_COMPONENT]: w.component, [LABEL_REGION]: w.region };
    const objectLabels = { ...props.labels, [LABEL_COMPONENT]: w.component, [LABEL_REGION]: w.region };

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: w.name, labels: objectLabels },
      // The autoscaler owns the API's replica count (from w.replicas up); a fixed count here would
      // reset it at every apply.
      replicas: w.port > 0 ? undefined : w.replicas,
      select: false,
      podMetadata: { labels: podLabels },
      // Zero downtime: a new pod is ready before an old one goes.
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      ...podSecurity(NODE_USER),
    });
    for (const [key, value] of Object.entries(selector)) this.deployment.select(kplus.LabelSelector.of({ labels: { [key]: value } }));

    const container = this.deployment.addContainer({
      name: w.program,
      image: NODE_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // Unpack the bundle into the scratch /tmp (the root filesystem is read-only), then run it.
      command: ['sh', '-c', `gunzip -c ${PROGRAM_DIR}/${w.program}.mjs.gz > /tmp/${w.program}.mjs && exec node /tmp/${w.program}.mjs`],
      portNumber: w.port > 0 ? w.port : undefined,
      resources: resources(w.resources),
      securityContext: securityContext(NODE_USER),
      envVariables: this.environment(props),
      ...(w.port > 0 ? httpProbes() : heartbeatProbes()),
    });
    container.mount(PROGRAM_DIR, kplus.Volume.fromConfigMap(this, 'program', props.programConfigMap, { name: 'program' }), {
      readOnly: true,
    });
    mountScratch(this, container, { tmp: '/tmp' });

    if (w.port <= 0) return;
    this.service = new kplus.Service(this, 'service', {
      metadata: { name: w.name, labels: objectLabels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'http', port: w.port, targetPort: w.port }],
    });
    for (const [key, value] of Object.entries(selector)) this.service.selectLabel(key, value);

    new kplus.HorizontalPodAutoscaler(this, 'autoscaler', {
      metadata: { name: w.name, labels: objectLabels },
      target: this.deployment,
      minReplicas: w.replicas,
      maxReplicas: w.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70))],
    });
    // Voluntary disruptions (node drains, upgrades) keep all but one instance serving.
    new KubePodDisruptionBudget(this, 'disruption-budget', {
      metadata: { name: w.name, labels: objectLabels },
      spec: { minAvailable: IntOrString.fromNumber(Math.max(1, w.replicas - 1)), selector: { matchLabels: selector } },
    });
  }

  /** Settings from the ConfigMaps, passwords from the lab Secret (by reference, never by value). */
  private environment(props: LabServiceProps): Record<string, kplus.EnvValue> {
    const { plan, workload: w } = props;
    const config = kplus.ConfigMap.fromConfigMapName(this, 'config', plan.configName);
    const secret = kplus.Secret.fromSecretName(this, 'secret', plan.secretName);
    const env: Record<string, kplus.EnvValue> = {
      INSTANCE_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
    };
    if (w.port > 0) {
      env.LABFORGE_API_HOST = kplus.EnvValue.fromConfigMap(config, 'LABFORGE_API_HOST');
      env.LABFORGE_API_PORT = kplus.EnvValue.fromConfigMap(config, 'LABFORGE_API_PORT');
    } else {
      env.HEARTBEAT_FILE = kplus.EnvValue.fromValue(HEARTBEAT_FILE);
    }
    for (const key of w.secretKeys) env[key] = kplus.EnvValue.fromSecretValue({ secret, key });
    if (props.kafkaTopic !== undefined && w.program === 'api') {
      const endpoints = kplus.ConfigMap.fromConfigMapName(this, 'endpoints', plan.endpointsName);
      env.KAFKA_BROKERS = kplus.EnvValue.fromConfigMap(endpoints, 'KAFKA_BROKERS');
      env.KAFKA_TOPIC = kplus.EnvValue.fromValue(props.kafkaTopic);
      if (props.kafkaTls) env.KAFKA_TLS = kplus.EnvValue.fromValue('true');
    }
    return env;
  }
}

/** Liveness on `/` (answers without the data stores, so an outage does not restart every pod);
 * readiness on `/health` (the stores answer), so the Service only routes to working pods. */
function httpProbes(): Pick<kplus.ContainerProps, 'liveness' | 'readiness' | 'startup'> {
  return {
    startup: kplus.Probe.fromHttpGet('/', { periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
    liveness: kplus.Probe.fromHttpGet('/', { periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
    readiness: kplus.Probe.fromHttpGet('/health', { periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
  };
}

/** The worker serves nothing: it rewrites HEARTBEAT_FILE every 10 s while it consumes. */
function heartbeatProbes(): Pick<kplus.ContainerProps, 'liveness' | 'readiness'> {
  const fresh = `test -n "$(find ${HEARTBEAT_FILE} -mmin -1 2>/dev/null)"`;
  return {
    liveness: kplus.Probe.fromCommand(['sh', '-c', fresh], {
      initialDelaySeconds: Duration.seconds(30),
      periodSeconds: Duration.seconds(15),
    }),
    readiness: kplus.Probe.fromCommand(['sh', '-c', `test -f ${HEARTBEAT_FILE}`], { periodSeconds: Duration.seconds(5) }),
  };
}
