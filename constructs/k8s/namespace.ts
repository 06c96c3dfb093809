// The lab namespace with the room a learner gets (ResourceQuota, LimitRange) and what they may do
// in it (a Role bound to the lab's learner group), as cdk8s objects for the `k8s` target. On EKS
// the cluster-objects stack (cdktf) creates the same objects from the same plan.
import { Chart, type ChartProps } from 'cdk8s';
import { KubeLimitRange, KubeNamespace, KubeResourceQuota, KubeRole, KubeRoleBinding, Quantity } from 'cdk8s-plus-31/lib/imports/k8s.js';
import type { Construct } from 'constructs';
import { LEARNER_RULES, POD_SECURITY_LABELS, type KubernetesPlan } from '../model/kubernetes.js';
import { k8sLearnerGroup, physicalName } from '../model/names.js';

export interface LabNamespaceChartProps extends ChartProps {
  readonly plan: KubernetesPlan;
  readonly labels: Readonly<Record<string, string>>;
}

/** Cluster-scoped Namespace first, then the namespaced objects that shape it. */
export class LabNamespaceChart extends Chart {
  constructor(scope: Construct, id: string, props: LabNamespaceChartProps) {
    super(scope, id, { ...props, namespace: undefined });
    const { plan, labels } = props;
    const metadata = (name: string) => ({ name, namespace: plan.namespace, labels });
    const q = plan.quota;

    new KubeNamespace(this, 'namespace', { metadata: { name: plan.namespace, labels: { ...labels, ...POD_SECURITY_LABELS } } });
    new KubeResourceQuota(this, 'quota', {
      metadata: metadata(physicalName(plan.lab, ['quota'])),
      spec: {
        hard: {
          pods: Quantity.fromNumber(q.pods),
          services: Quantity.fromNumber(q.services),
          'requests.cpu': Quantity.fromString(q.requests.cpu),
          'requests.memory': Quantity.fromString(q.requests.memory),
          'limits.cpu': Quantity.fromString(q.limits.cpu),
          'limits.memory': Quantity.fromString(q.limits.memory),
        },
      },
    });
    new KubeLimitRange(this, 'limits', {
      metadata: metadata(physicalName(plan.lab, ['limits'])),
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: Quantity.fromString(q.defaultRequest.cpu), memory: Quantity.fromString(q.defaultRequest.memory) },
            default: { cpu: Quantity.fromString(q.defaultLimit.cpu), memory: Quantity.fromString(q.defaultLimit.memory) },
            max: { cpu: Quantity.fromString(q.max.cpu), memory: Quantity.fromString(q.max.memory) },
          },
        ],
      },
    });
    const role = physicalName(plan.lab, ['learner']);
    new KubeRole(this, 'learner-role', {
      metadata: metadata(role),
      rules: LEARNER_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    new KubeRoleBinding(this, 'learner-binding', {
      metadata: metadata(role),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: k8sLearnerGroup(plan.lab) }],
    });
  }
}
