// The cdk8s workloads of the labs that run on Kubernetes, asserted by property: secure pods,
// selectors that find pods, least-privilege network paths, secrets only by reference.
import { describe, expect, it } from 'vitest';
import { LABEL_LAB, LABEL_LEVEL, LABEL_REGION } from '../../constructs/k8s/labels.js';
import { NODE_IMAGE } from '../../constructs/k8s/services.js';
import { quantity } from '../../constructs/model/kubernetes.js';
import { containersOf, ofKind, podLabels, programSource, renderLab, selects, workloads, type Obj } from './k8s-helpers.js';

const CASES = [
  ['advanced', 'in-cluster'],
  ['advanced', 'managed'],
  ['expert', 'in-cluster'],
  ['expert', 'managed'],
] as const;

describe.each(CASES)('%s lab, %s stores', (level, backing) => {
  const { plan, clusters, objects } = renderLab(level, backing);

  it('every container has liveness and readiness probes, requests and limits', () => {
    const containers = containersOf(objects);
    expect(containers.length).toBeGreaterThan(0);
    for (const { owner, container } of containers) {
      expect(container.livenessProbe, `${owner} liveness`).toBeDefined();
      expect(container.readinessProbe, `${owner} readiness`).toBeDefined();
      for (const what of ['requests', 'limits']) {
        expect(container.resources?.[what]?.cpu, `${owner} ${what}.cpu`).toBeDefined();
        expect(container.resources?.[what]?.memory, `${owner} ${what}.memory`).toBeDefined();
      }
      expect(quantity(container.resources.requests.cpu, 'cpu')).toBeLessThanOrEqual(quantity(container.resources.limits.cpu, 'cpu'));
    }
  });

  it('every pod runs as non-root, cannot escalate, drops every capability, mounts no API token', () => {
    for (const { owner, pod, container } of containersOf(objects)) {
      const sc = container.securityContext;
      expect(sc.runAsNonRoot, owner).toBe(true);
      expect(sc.runAsUser, owner).toBeGreaterThan(0);
      expect(sc.allowPrivilegeEscalation, owner).toBe(false);
      expect(sc.privileged, owner).toBe(false);
      expect(sc.capabilities?.drop, owner).toEqual(['ALL']);
      expect(sc.seccompProfile?.type, owner).toBe('RuntimeDefault');
      expect(pod.securityContext.runAsNonRoot, owner).toBe(true);
      expect(pod.automountServiceAccountToken, owner).toBe(false);
    }
  });

  it('every volume a container mounts is a volume of its pod', () => {
    for (const { owner, pod, container } of containersOf(objects)) {
      const volumes = (pod.volumes ?? []).map((v: Obj) => v.name);
      for (const m of container.volumeMounts ?? []) expect(volumes, `${owner} mounts ${m.name} at ${m.mountPath}`).toContain(m.name);
    }
  });

  it('root filesystems are read-only; the only exception says why in an annotation', () => {
    for (const w of workloads(objects)) {
      const writable = w.spec.template.spec.containers.some((c: Obj) => c.securityContext.readOnlyRootFilesystem !== true);
      const reason = (w.metadata as Record<string, any>).annotations?.['labforge.dev/writable-root'];
      expect(writable ? typeof reason === 'string' && reason.length > 20 : reason === undefined, `${w.metadata.name}`).toBe(true);
    }
    // The API and the worker never write outside their scratch /tmp.
    for (const d of ofKind(objects, 'Deployment'))
      expect(d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it.each(['Service', 'PodDisruptionBudget'])('every %s selects pods of a workload in its cluster', (kind) => {
    for (const cluster of clusters) {
      const labels = podLabels(cluster.objects as Obj[]);
      for (const o of ofKind(cluster.objects as Obj[], kind)) {
        const selector = kind === 'Service' ? o.spec.selector : o.spec.selector.matchLabels;
        expect(Object.keys(selector ?? {}).length, `${o.metadata.name} has a selector`).toBeGreaterThan(0);
        expect(
          labels.some((l) => selects(selector, l)),
          `${kind} ${o.metadata.name} selects pods`,
        ).toBe(true);
      }
    }
  });

  it('every NetworkPolicy, and every pod peer in its rules, selects existing pods', () => {
    for (const cluster of clusters) {
      const labels = podLabels(cluster.objects as Obj[]);
      for (const np of ofKind(cluster.objects as Obj[], 'NetworkPolicy')) {
        expect(
          labels.some((l) => selects(np.spec.podSelector.matchLabels, l)),
          `${np.metadata.name} selects pods`,
        ).toBe(true);
        const peers = [
          ...(np.spec.ingress ?? []).flatMap((r: Obj) => r.from ?? []),
          ...(np.spec.egress ?? []).flatMap((r: Obj) => r.to ?? []),
        ];
        for (const peer of peers.filter((p: Obj) => p.podSelector && !p.namespaceSelector)) {
          expect(
            labels.some((l) => selects(peer.podSelector.matchLabels, l)),
            `${np.metadata.name} peer ${JSON.stringify(peer)}`,
          ).toBe(true);
        }
      }
    }
  });

  it('denies all traffic by default and opens no ingress to the whole internet', () => {
    for (const cluster of clusters) {
      const policies = ofKind(cluster.objects as Obj[], 'NetworkPolicy');
      const deny = policies.find((p) => p.metadata.name === 'default-deny');
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const sources = policies.flatMap((p) => (p.spec.ingress ?? []).flatMap((r: Obj) => r.from ?? []));
      expect(sources.length).toBeGreaterThan(0);
      for (const s of sources) expect(s.ipBlock?.cidr, JSON.stringify(s)).not.toBe('0.0.0.0/0');
      // Every ingress rule names its ports: no "all ports from X".
      for (const p of policies) for (const r of p.spec.ingress ?? []) expect(r.ports?.length, p.metadata.name).toBeGreaterThan(0);
    }
  });

  it('reads secrets only by reference to the lab Secret, and ships no Secret object', () => {
    expect(ofKind(objects, 'Secret')).toEqual([]);
    const refs = containersOf(objects).flatMap(({ container }) => (container.env ?? []).filter((e: Obj) => e.valueFrom?.secretKeyRef));
    expect(refs.length).toBeGreaterThan(0);
    for (const e of refs) {
      expect(e.valueFrom.secretKeyRef.name).toBe(plan.secretName);
      expect(plan.secretKeys).toContain(e.valueFrom.secretKeyRef.key);
    }
    for (const { owner, container } of containersOf(objects)) {
      for (const e of container.env ?? []) {
        if (/PASS|SECRET|TOKEN|_URL$|^SHARDS$/.test(e.name)) expect(e.value, `${owner} ${e.name} must not be literal`).toBeUndefined();
      }
    }
  });

  it('labels every object with its lab and level, and keeps namespaced objects in the lab namespace', () => {
    for (const o of objects) {
      expect(o.metadata.labels?.[LABEL_LAB], `${o.kind}/${o.metadata.name}`).toBe(level);
      expect(o.metadata.labels?.[LABEL_LEVEL]).toBe(level);
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(plan.namespace);
    }
  });

  it('autoscales each API from its instances and keeps all but one through disruptions', () => {
    const apis = plan.workloads.filter((w) => w.program === 'api');
    for (const w of apis) {
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === w.name);
      expect(hpa?.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: w.name });
      expect(hpa?.spec.minReplicas).toBe(w.replicas);
      expect(hpa?.spec.maxReplicas).toBeGreaterThan(w.replicas);
      const pdb = ofKind(objects, 'PodDisruptionBudget').find((p) => p.metadata.name === w.name);
      expect(pdb?.spec.minAvailable).toBe(Math.max(1, w.replicas - 1));
      // A fixed replica count would fight the autoscaler at every apply.
      expect(ofKind(objects, 'Deployment').find((d) => d.metadata.name === w.name)?.spec.replicas).toBeUndefined();
    }
  });

  it('runs the bundled program from templates/ on the official node image', () => {
    for (const d of ofKind(objects, 'Deployment')) {
      const [container] = d.spec.template.spec.containers;
      expect(container.image).toBe(NODE_IMAGE);
      const volume = d.spec.template.spec.volumes.find((v: Obj) => v.configMap);
      const cm = ofKind(objects, 'ConfigMap').find((c) => c.metadata.name === volume.configMap.name);
      expect(cm, `${d.metadata.name} program ConfigMap`).toBeDefined();
      const source = programSource(cm!);
      // The bundle is the real program: the API answers /health, the worker consumes `jobs`.
      expect(source).toContain(container.name === 'api' ? '/health' : 'emails_sent');
      expect(container.command.join(' ')).toContain(`${container.name}.mjs.gz`);
    }
  });
});

describe('per-region overlay (expert)', () => {
  it('managed: one manifest per EKS cluster holding only its region, each region its own Kafka bootstrap key', () => {
    const { clusters } = renderLab('expert', 'managed', { regions: 'us-east-1,eu-west-1,ap-southeast-2' });
    expect(clusters.map((c) => c.cluster)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-2']);
    for (const c of clusters) {
      const deployments = ofKind(c.objects as Obj[], 'Deployment');
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) expect(d.metadata.labels?.[LABEL_REGION]).toBe(c.cluster);
      const env = deployments[0]!.spec.template.spec.containers[0].env as Obj[];
      expect(env.find((e) => e.name === 'KAFKA_BROKERS')?.valueFrom.configMapKeyRef).toMatchObject({ key: 'KAFKA_BROKERS' });
      // MSK's bootstrap is its TLS listener.
      expect(env.find((e) => e.name === 'KAFKA_TLS')?.value).toBe('true');
    }
  });

  it('in-cluster: every region has its API in the one namespace, names carrying the region code', () => {
    const { objects } = renderLab('expert', 'in-cluster');
    expect(
      ofKind(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['api-euw1', 'api-use1']);
    expect(
      ofKind(objects, 'StatefulSet')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['db-shard0', 'db-shard1', 'events']);
    expect(ofKind(objects, 'StatefulSet').find((s) => s.metadata.name === 'events')?.spec.replicas).toBe(3);
    // The in-cluster brokers listen in plaintext inside the namespace's NetworkPolicies.
    for (const d of ofKind(objects, 'Deployment'))
      expect(d.spec.template.spec.containers[0].env.some((e: Obj) => e.name === 'KAFKA_TLS')).toBe(false);
  });
});

describe('namespace room (in-cluster)', () => {
  it.each(['advanced', 'expert'] as const)('%s: the quota holds every workload at its autoscaler maximum plus the stores', (level) => {
    const { objects } = renderLab(level, 'in-cluster');
    const quota = ofKind(objects, 'ResourceQuota')[0]!.spec.hard;
    const pods = [
      ...ofKind(objects, 'Deployment').map((d) => ({
        d,
        n:
          ofKind(objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata.name)?.spec.maxReplicas ??
          d.spec.replicas,
      })),
      ...ofKind(objects, 'StatefulSet').map((d) => ({ d, n: d.spec.replicas })),
    ];
    const total = (what: 'requests' | 'limits', unit: 'cpu' | 'memory') =>
      pods.reduce(
        (sum, { d, n }) =>
          sum + n * d.spec.template.spec.containers.reduce((s: number, c: Obj) => s + quantity(c.resources[what][unit], unit), 0),
        0,
      );
    expect(pods.reduce((n, p) => n + p.n, 0)).toBeLessThanOrEqual(Number(quota.pods));
    expect(total('requests', 'cpu')).toBeLessThanOrEqual(quantity(quota['requests.cpu'], 'cpu'));
    expect(total('limits', 'memory')).toBeLessThanOrEqual(quantity(quota['limits.memory'], 'memory'));
  });

  it('the learner role grants nothing cluster-wide and no wildcard', () => {
    const { objects, plan } = renderLab('advanced', 'in-cluster');
    const role = ofKind(objects, 'Role')[0]!;
    expect(role.metadata.namespace).toBe(plan.namespace);
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    const guarded = ['roles', 'rolebindings', 'resourcequotas', 'limitranges', 'namespaces', 'serviceaccounts', 'secrets'];
    for (const rule of role.rules) {
      expect([...rule.verbs, ...rule.resources, ...rule.apiGroups]).not.toContain('*');
      // What shapes the learner's room (and the lab Secret the workloads read) is never writable.
      const writes = rule.verbs.some((v: string) => ['create', 'update', 'patch', 'delete'].includes(v));
      if (writes) for (const r of guarded) expect(rule.resources, JSON.stringify(rule)).not.toContain(r);
    }
    const binding = ofKind(objects, 'RoleBinding')[0]!;
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
  });
});
