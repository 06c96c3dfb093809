// One namespace of a lab in one cluster, with everything a learner's workloads need around them:
// the namespace (Pod Security `baseline` enforced), its ResourceQuota and LimitRange, the learner
// Role and its RoleBinding, the lab Secret and the endpoints ConfigMap. Every namespaced object
// names the namespace through a reference, so Terraform creates it first and destroys it last.
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1/index.js';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1/index.js';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1/index.js';
import type { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1/index.js';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1/index.js';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1/index.js';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1/index.js';
import { LEARNER_RULES, POD_SECURITY_LABELS, type QuotaPlan } from '../model/kubernetes.js';
import { ValidationError } from '../model/errors.js';

export interface LabNamespaceProps {
  /** Kubernetes provider of the cluster the namespace lives in. */
  readonly provider: KubernetesProvider;
  /** Namespace name (a DNS label, <= 63 characters). */
  readonly name: string;
  /** Labels of the namespace and of every object in it. */
  readonly labels: Readonly<Record<string, string>>;
  /** ResourceQuota and LimitRange figures. */
  readonly quota: QuotaPlan;
  /** Names of the quota, limit range and learner role (unique within the namespace). */
  readonly objectNames: { readonly quota: string; readonly limits: string; readonly role: string };
  /** Kubernetes group bound to the learner Role (mapped from IAM by an EKS access entry). */
  readonly learnerGroup: string;
  /** Name of the lab Secret. */
  readonly secretName: string;
  /** The lab Secret's data: Terraform references only, never literal passwords. */
  readonly secretData: Readonly<Record<string, string>>;
  /** Name of the endpoints ConfigMap. */
  readonly endpointsName: string;
  /** The endpoints ConfigMap's data. @default {} (created empty, so workloads can always reference it) */
  readonly endpointsData?: Readonly<Record<string, string>>;
}

export class LabNamespace extends Construct {
  readonly namespace: NamespaceV1;
  readonly secret: SecretV1;

  constructor(scope: Construct, id: string, props: LabNamespaceProps) {
    super(scope, id);
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(props.name)) {
      throw new ValidationError(`${this.node.path}: namespace '${props.name}' is not a DNS label of at most 63 characters`);
    }
    if (Object.keys(props.secretData).length === 0) throw new ValidationError(`${this.node.path}: the lab Secret has no key`);
    const provider = props.provider;
    const labels = { ...props.labels };
    this.namespace = new NamespaceV1(this, 'namespace', {
      provider,
      metadata: { name: props.name, labels: { ...labels, ...POD_SECURITY_LABELS } },
    });
    // The reference (not the literal name) orders creation after, and destruction before, the namespace.
    const metadata = (name: string) => ({ name, namespace: this.namespace.metadata.name, labels });
    const q = props.quota;
    new ResourceQuotaV1(this, 'quota', {
      provider,
      metadata: metadata(props.objectNames.quota),
      spec: {
        hard: {
          pods: String(q.pods),
          services: String(q.services),
          'requests.cpu': q.requests.cpu,
          'requests.memory': q.requests.memory,
          'limits.cpu': q.limits.cpu,
          'limits.memory': q.limits.memory,
        },
      },
    });
    new LimitRangeV1(this, 'limits', {
      provider,
      metadata: metadata(props.objectNames.limits),
      spec: { limit: [{ type: 'Container', default: { ...q.defaultLimit }, defaultRequest: { ...q.defaultRequest }, max: { ...q.max } }] },
    });
    const role = new RoleV1(this, 'learner-role', {
      provider,
      metadata: metadata(props.objectNames.role),
      rule: LEARNER_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    new RoleBindingV1(this, 'learner-binding', {
      provider,
      metadata: metadata(props.objectNames.role),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
      subject: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: props.learnerGroup }],
    });
    this.secret = new SecretV1(this, 'secret', {
      provider,
      metadata: metadata(props.secretName),
      type: 'Opaque',
      data: { ...props.secretData },
    });
    new ConfigMapV1(this, 'endpoints', { provider, metadata: metadata(props.endpointsName), data: { ...(props.endpointsData ?? {}) } });
  }
}
