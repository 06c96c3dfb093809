// What runs inside a lab's cluster, as one cdk8s chart: the services (API, worker), their
// settings and program bundles, the NetworkPolicies, and with in-cluster backing the data stores.
// Multi-region labs get a per-region overlay: the same workloads named and labelled per region
// (`api-use1`), each region's API reading its own region's Kafka bootstrap.
import { Chart, type ChartProps } from 'cdk8s';
import { KubeConfigMap } from 'cdk8s-plus-31/lib/imports/k8s.js';
import * as kplus from 'cdk8s-plus-31';
import type { Construct } from 'constructs';
import { storeInstanceNames, type Backing, type KubernetesPlan } from '../model/kubernetes.js';
import { EVENTS_TOPIC } from '../model/names.js';
import type { LabSpec, ServiceComponent } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { LabNetworkPolicies } from './network-policies.js';
import { LabService, programConfigMapName } from './services.js';
import { InClusterStore } from './stores.js';

export interface LabWorkloadsChartProps extends ChartProps {
  readonly lab: LabSpec;
  readonly plan: KubernetesPlan;
  readonly backing: Backing;
  /** Regions whose workloads this chart holds: one on EKS (a cluster per region), all on `k8s`. */
  readonly regions: readonly string[];
  /** Gzipped single-file bundles of the programs (dist/programs/<program>.mjs.gz). */
  readonly programs: Readonly<Record<ServiceComponent['program'], Buffer>>;
  readonly labels: Readonly<Record<string, string>>;
}

export class LabWorkloadsChart extends Chart {
  constructor(scope: Construct, id: string, props: LabWorkloadsChartProps) {
    super(scope, id, { ...props, namespace: props.plan.namespace });
    const { plan, labels } = props;
    const workloads = plan.workloads.filter((w) => props.regions.includes(w.region));
    const kafka = componentsOf(props.lab, 'kafka')[0];
    const kafkaTopic = kafka === undefined ? undefined : kafka.topics.includes(EVENTS_TOPIC) ? EVENTS_TOPIC : kafka.topics[0];

    const api = workloads.find((w) => w.program === 'api');
    new kplus.ConfigMap(this, 'config', {
      metadata: { name: plan.configName, labels },
      data: { LABFORGE_API_HOST: '0.0.0.0', LABFORGE_API_PORT: String(api?.port ?? 8080) },
    });
    const programs = new Map<string, kplus.IConfigMap>();
    for (const program of new Set(workloads.map((w) => w.program))) {
      const name = programConfigMapName(plan, program);
      new KubeConfigMap(this, `program-${program}`, {
        metadata: { name, labels },
        binaryData: { [`${program}.mjs.gz`]: props.programs[program].toString('base64') },
      });
      programs.set(program, kplus.ConfigMap.fromConfigMapName(this, `program-${program}-ref`, name));
    }

    if (props.backing === 'in-cluster') {
      // Managed stores: the cluster-objects stack writes this ConfigMap from the cloud outputs.
      const kafkaStore = plan.dataStores.find((s) => s.kind === 'kafka');
      if (kafkaStore !== undefined) {
        const [set] = storeInstanceNames(kafkaStore);
        const brokers = Array.from(
          { length: kafkaStore.instances },
          (_, i) => `${set}-${i}.${set}.${plan.namespace}.svc:${kafkaStore.port}`,
        );
        new kplus.ConfigMap(this, 'endpoints', {
          metadata: { name: plan.endpointsName, labels },
          data: { KAFKA_BROKERS: brokers.join(',') },
        });
      }
      for (const store of plan.dataStores) {
        for (const name of storeInstanceNames(store)) new InClusterStore(this, name, { lab: props.lab, plan, store, name, labels });
      }
    }

    for (const w of workloads) {
      // MSK's bootstrap (managed) is its TLS listener.
      new LabService(this, w.name, {
        plan,
        workload: w,
        labels,
        programConfigMap: programs.get(w.program)!,
        kafkaTopic,
        kafkaTls: props.backing === 'managed',
      });
    }
    new LabNetworkPolicies(this, 'network-policies', { plan, backing: props.backing, workloads, labels });
  }
}
