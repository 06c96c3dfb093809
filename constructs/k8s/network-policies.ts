// NetworkPolicies of a lab namespace: deny everything, then allow exactly the paths the programs
// use (DNS, service -> store on the store's port, clients -> API port, Kafka among its brokers).
import {
  IntOrString,
  KubeNetworkPolicy,
  type NetworkPolicyEgressRule,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicySpec,
} from 'cdk8s-plus-31/lib/imports/k8s.js';
import { Construct } from 'constructs';
import type { Backing, KubernetesPlan, WorkloadPlan } from '../model/kubernetes.js';
import { KAFKA_CONTROLLER_PORT, storeInstanceNames } from '../model/kubernetes.js';
import { regionCidr } from '../model/names.js';
import { workloadSelector } from './labels.js';

/** Private address ranges: where cluster-internal clients (pods, nodes, the API server proxy) come from. */
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export interface LabNetworkPoliciesProps {
  readonly plan: KubernetesPlan;
  readonly backing: Backing;
  /** Workloads in this cluster (one region's, on EKS). */
  readonly workloads: readonly WorkloadPlan[];
  readonly labels: Readonly<Record<string, string>>;
}

const tcp = (port: number): NetworkPolicyPort => ({ protocol: 'TCP', port: IntOrString.fromNumber(port) });

export class LabNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: LabNetworkPoliciesProps) {
    super(scope, id);
    const { plan, labels } = props;
    const policy = (name: string, spec: NetworkPolicySpec) => new KubeNetworkPolicy(this, name, { metadata: { name, labels }, spec });
    const podsOf = (name: string): NetworkPolicyPeer => ({ podSelector: { matchLabels: workloadSelector(plan.lab, name) } });

    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    policy('allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: IntOrString.fromNumber(53) }, tcp(53)],
        },
      ],
    });

    for (const w of props.workloads) {
      if (w.port > 0) {
        policy(`${w.name}-ingress`, {
          podSelector: { matchLabels: workloadSelector(plan.lab, w.name) },
          policyTypes: ['Ingress'],
          ingress: [{ from: PRIVATE_RANGES.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(w.port)] }],
        });
      }
      const egress = w.uses.flatMap((storeId): NetworkPolicyEgressRule[] => {
        const store = plan.dataStores.find((s) => s.id === storeId)!;
        const ports = [tcp(store.port)];
        if (props.backing === 'managed') {
          // Cloud stores live in the lab's VPCs (peered across regions), reached by private address.
          return [{ to: plan.regions.map((_, i) => ({ ipBlock: { cidr: regionCidr(i) } })), ports }];
        }
        return [{ to: storeInstanceNames(store).map(podsOf), ports }];
      });
      if (egress.length > 0)
        policy(`${w.name}-egress`, { podSelector: { matchLabels: workloadSelector(plan.lab, w.name) }, policyTypes: ['Egress'], egress });
    }

    if (props.backing !== 'in-cluster') return;
    for (const store of plan.dataStores) {
      const clients = props.workloads.filter((w) => w.uses.includes(store.id)).map((w) => podsOf(w.name));
      for (const name of storeInstanceNames(store)) {
        const peers = store.kind === 'kafka' ? [...clients, podsOf(name)] : clients;
        if (peers.length === 0) continue;
        const ports = store.kind === 'kafka' ? [tcp(store.port), tcp(KAFKA_CONTROLLER_PORT)] : [tcp(store.port)];
        policy(`${name}-ingress`, {
          podSelector: { matchLabels: workloadSelector(plan.lab, name) },
          policyTypes: ['Ingress'],
          ingress: [{ from: peers, ports }],
        });
        // Brokers replicate to each other and talk to the controller quorum.
        if (store.kind === 'kafka')
          policy(`${name}-egress`, {
            podSelector: { matchLabels: workloadSelector(plan.lab, name) },
            policyTypes: ['Egress'],
            egress: [{ to: [podsOf(name)], ports }],
          });
      }
    }
  }
}
