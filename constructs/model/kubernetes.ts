// What a lab runs inside Kubernetes, as engine-neutral data. The cdk8s charts (workloads) and the
// cdktf cluster-objects stack (namespaces, RBAC, quotas) both render this plan, so replica
// counts, resource figures, Secret keys and names agree without either engine reading the other.
import { ValidationError } from './errors.js';
import type { LabDeployment } from './deployment.js';
import { k8sEndpointsName, k8sNamespace, k8sSecretName, physicalName, regionCode } from './names.js';
import type { LabSpec, ServiceComponent } from './types.js';
import { componentsOf } from './validate.js';
import { labSecretKeys, secretKeysOf, type SecretKey } from './workloads.js';

/**
 * Where a lab's data stores live when its services run on Kubernetes:
 * - `managed`: cloud services (RDS, ElastiCache, Amazon MQ, MSK) made by the aws stack; their
 *   endpoints and passwords reach the pods through the Secret and ConfigMap the cluster-objects
 *   stack writes from that stack's outputs.
 * - `in-cluster`: StatefulSets of the official images in the lab's namespace (the `k8s` target on
 *   a cluster of the user's own, e.g. kind), with passwords labforge generates at `up`.
 */
export type Backing = 'managed' | 'in-cluster';

export interface ResourceFigures {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A data store a service connects to, as the NetworkPolicies and the in-cluster charts see it. */
export interface DataStorePlan {
  /** Component id (`db`, `cache`, `mq`, `events`); in-cluster workload names derive from it. */
  readonly id: string;
  readonly kind: 'postgres' | 'redis' | 'rabbitmq' | 'kafka';
  /** Client port. */
  readonly port: number;
  /** In-cluster instances: shard primaries for postgres, brokers for kafka, else 1. */
  readonly instances: number;
  readonly resources: ResourceFigures;
}

/** One Deployment of a lab service (per region for multi-region labs). */
export interface WorkloadPlan {
  /** Kubernetes name: the component id, with the region code in multi-region labs (`api-use1`). */
  readonly name: string;
  /** Component id (`api`, `worker`): the selector label, stable across regions. */
  readonly component: string;
  readonly program: ServiceComponent['program'];
  readonly region: string;
  readonly replicas: number;
  /** Upper bound of the HorizontalPodAutoscaler (api only). */
  readonly maxReplicas: number;
  /** Container port; 0 for the worker, which serves nothing. */
  readonly port: number;
  readonly resources: ResourceFigures;
  /** Keys of the lab Secret the program reads (as environment variables). */
  readonly secretKeys: readonly SecretKey[];
  /** Ids of the data stores it talks to (egress rules). */
  readonly uses: readonly string[];
}

export interface KubernetesPlan {
  readonly lab: string;
  readonly level: LabSpec['level'];
  readonly namespace: string;
  readonly secretName: string;
  /** ConfigMap of data-store endpoints that are not secret (Kafka bootstrap per region). */
  readonly endpointsName: string;
  /** ConfigMap of the services' static settings. */
  readonly configName: string;
  readonly regions: readonly string[];
  readonly workloads: readonly WorkloadPlan[];
  readonly dataStores: readonly DataStorePlan[];
  /** Every key of the lab Secret for this backing (in-cluster adds the stores' own passwords). */
  readonly secretKeys: readonly string[];
  readonly quota: QuotaPlan;
}

/** The namespace's ResourceQuota and LimitRange: the room a learner has, sized from the workloads. */
export interface QuotaPlan {
  readonly pods: number;
  readonly services: number;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  /** LimitRange defaults for containers that state nothing (a learner's own experiments). */
  readonly defaultRequest: { readonly cpu: string; readonly memory: string };
  readonly defaultLimit: { readonly cpu: string; readonly memory: string };
  /** LimitRange maximum per container. */
  readonly max: { readonly cpu: string; readonly memory: string };
}

/** Ports the programs and stores listen on inside the cluster. */
export const STORE_PORTS = { postgres: 5432, redis: 6379, rabbitmq: 5672, kafka: 9092 } as const;
/** In-cluster Kafka's KRaft controller listener (brokers and controllers in one process). */
export const KAFKA_CONTROLLER_PORT = 9093;

const SERVICE_RESOURCES: ResourceFigures = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
const STORE_RESOURCES: Record<DataStorePlan['kind'], ResourceFigures> = {
  postgres: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  redis: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '250m', memory: '128Mi' } },
  rabbitmq: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  kafka: { requests: { cpu: '200m', memory: '768Mi' }, limits: { cpu: '1', memory: '1Gi' } },
};
/** HPA headroom: the API may grow to this many times its base instances (at most 10). */
const HPA_FACTOR = 3;

/** Labs whose services run on Kubernetes: those with a kubernetes-cluster component. */
export function runsOnKubernetes(lab: LabSpec): boolean {
  return componentsOf(lab, 'kubernetes-cluster').length > 0;
}

export function kubernetesPlan(d: LabDeployment, backing: Backing): KubernetesPlan {
  const lab = d.lab;
  const multiRegion = d.regions.length > 1;
  const workloads = d.regions.flatMap((region) =>
    componentsOf(lab, 'service').map((s): WorkloadPlan => ({
      name: multiRegion ? `${s.id}-${regionCode(region)}` : s.id,
      component: s.id,
      program: s.program,
      region,
      replicas: s.instances,
      maxReplicas: s.program === 'api' ? Math.min(10, s.instances * HPA_FACTOR) : s.instances,
      port: s.port,
      resources: SERVICE_RESOURCES,
      secretKeys: secretKeysOf(lab, s),
      uses: s.uses.filter((id) => lab.components.some((c) => c.id === id && c.kind in STORE_PORTS)),
    })),
  );
  const dataStores = lab.components.flatMap((c): DataStorePlan[] => {
    if (c.kind === 'postgres')
      return [{ id: c.id, kind: 'postgres', port: STORE_PORTS.postgres, instances: c.shards, resources: STORE_RESOURCES.postgres }];
    if (c.kind === 'redis' || c.kind === 'rabbitmq')
      return [{ id: c.id, kind: c.kind, port: STORE_PORTS[c.kind], instances: 1, resources: STORE_RESOURCES[c.kind] }];
    if (c.kind === 'kafka')
      return [{ id: c.id, kind: 'kafka', port: STORE_PORTS.kafka, instances: Math.min(c.brokers, 3), resources: STORE_RESOURCES.kafka }];
    return [];
  });
  const storeKeys = backing === 'in-cluster' ? dataStores.flatMap((s) => storePasswordKey(s.kind) ?? []) : [];
  return {
    lab: d.name,
    level: lab.level,
    namespace: k8sNamespace(d.name),
    secretName: k8sSecretName(d.name),
    endpointsName: k8sEndpointsName(d.name),
    configName: physicalName(d.name, ['config']),
    regions: d.regions,
    workloads,
    dataStores,
    secretKeys: [...new Set([...labSecretKeys(lab), ...storeKeys])].sort(),
    quota: quotaFor(workloads, backing === 'in-cluster' ? dataStores : []),
  };
}

/** The Secret key holding a store's own password (in-cluster stores are started with it). */
export function storePasswordKey(kind: DataStorePlan['kind']): string | undefined {
  return { postgres: 'POSTGRES_PASSWORD', redis: 'REDIS_PASSWORD', rabbitmq: 'RABBITMQ_PASSWORD', kafka: undefined }[kind];
}

/** Kubernetes names of a store's in-cluster StatefulSets: one per shard (`db-shard0`, ...), else
 * one named like the component (Kafka's brokers are the replicas of a single set). */
export function storeInstanceNames(store: DataStorePlan): string[] {
  if (store.kind !== 'postgres' || store.instances === 1) return [store.id];
  return Array.from({ length: store.instances }, (_, i) => `${store.id}-shard${i}`);
}

/** Quota = every workload at its HPA maximum plus the stores, with 50% room for the exercises. */
function quotaFor(workloads: readonly WorkloadPlan[], stores: readonly DataStorePlan[]): QuotaPlan {
  const parts = [
    ...workloads.map((w) => ({ count: w.maxReplicas, r: w.resources })),
    ...stores.map((s) => ({ count: s.instances, r: s.resources })),
  ];
  const sum = (pick: (r: ResourceFigures) => string, unit: 'cpu' | 'memory') =>
    Math.ceil(parts.reduce((total, p) => total + p.count * quantity(pick(p.r), unit), 0) * 1.5);
  const pods = parts.reduce((n, p) => n + p.count, 0);
  return {
    pods: Math.ceil(pods * 1.5) + 2,
    services: workloads.length + stores.length * 2 + 4,
    requests: { cpu: `${sum((r) => r.requests.cpu, 'cpu')}m`, memory: `${sum((r) => r.requests.memory, 'memory')}Mi` },
    limits: { cpu: `${sum((r) => r.limits.cpu, 'cpu')}m`, memory: `${sum((r) => r.limits.memory, 'memory')}Mi` },
    defaultRequest: { cpu: '50m', memory: '64Mi' },
    defaultLimit: { cpu: '250m', memory: '256Mi' },
    max: { cpu: '2', memory: '2Gi' },
  };
}

/** A Kubernetes quantity in millicores (cpu) or MiB (memory); only the forms this file writes. */
export function quantity(value: string, unit: 'cpu' | 'memory'): number {
  const match = /^(\d+(?:\.\d+)?)(m|Mi|Gi)?$/.exec(value);
  if (!match) throw new ValidationError(`unsupported quantity '${value}' (expected e.g. 250m, 1, 128Mi, 2Gi)`);
  const n = Number(match[1]);
  const suffix = match[2] ?? '';
  if (unit === 'cpu') return suffix === 'm' ? n : n * 1000;
  return suffix === 'Gi' ? n * 1024 : n;
}

export interface RbacRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = [...READ, 'create', 'update', 'patch', 'delete'];

/**
 * What a learner may do in their namespace, on every target: run and debug the lab's workloads
 * and their own experiments. Nothing cluster-wide (a Role, never a ClusterRole), no wildcard, no
 * RBAC objects, no service account tokens, no namespace or quota changes.
 * - secrets: get/list only. Reading adds no power (whoever may create pods can mount any Secret
 *   of the namespace, and the values are the learner's own lab credentials, which `labforge
 *   secrets` prints); not writing keeps the lab Secret from being replaced under the workloads.
 * - pods/exec and pods/attach: the databases are private (reachable only from the cluster), so
 *   `kubectl run -it ... psql` or an exec is how a learner reaches them. Privileged or
 *   host-mounting pods (the way from a namespace to the node) are refused by the namespace's
 *   Pod Security `baseline` enforcement (POD_SECURITY_LABELS).
 */
export const LEARNER_RULES: readonly RbacRule[] = [
  { apiGroups: [''], resources: ['pods', 'services', 'configmaps'], verbs: WRITE },
  { apiGroups: [''], resources: ['pods/log'], verbs: READ },
  { apiGroups: [''], resources: ['pods/portforward', 'pods/exec', 'pods/attach'], verbs: ['get', 'create'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['events', 'endpoints'], verbs: READ },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'replicasets'], verbs: WRITE },
  { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale', 'replicasets/scale'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: WRITE },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
];

/** Pod Security Admission on every lab namespace: `baseline` refused at admission, `restricted`
 * reported as warnings (labforge's own pods meet `restricted`). */
export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'baseline',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};
