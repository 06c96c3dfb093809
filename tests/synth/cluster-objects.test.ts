// The cluster-objects stack (`<lab>-k8s`): Kubernetes objects in the lab's EKS clusters, in a
// Terraform stack of its own whose providers are configured from the cluster stack's outputs.
import { posix } from 'node:path';
import { App, Testing } from 'cdktf';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLabStacks } from '../../constructs/aws/synth.js';
import { ClusterObjectsStack, JWT_SECRET_LENGTH } from '../../constructs/k8s/cluster-objects.js';
import { LABEL_PARTICIPANT } from '../../constructs/k8s/labels.js';
import { LABEL_LAB, LABEL_LEVEL, LABEL_REGION } from '../../constructs/k8s/labels.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { kubernetesPlan, type KubernetesPlan } from '../../constructs/model/kubernetes.js';
import { clusterOutputNames, k8sLearnerGroup, k8sNamespace, regionCode } from '../../constructs/model/names.js';
import type { Level } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';
import { NOW, OWNER, resources, synthLevel, type Found, type Props, type Synthesized, type TfJsonWithBackend } from './helpers.js';
import { clusterStackState, labBackend } from '../../constructs/aws/state-backend.js';

/** The aws engine's state wiring, as constructs/aws/synth.ts gives it. */
const AWS_STATE = { backend: labBackend, clusterOutputs: clusterStackState };

const THREE = 'us-east-1,eu-west-1,ap-southeast-1';
const REMOTE = 'data.terraform_remote_state.';
const PARTICIPANTS = ['alice', 'bob'];

/** The cluster-objects stack alone, in memory (for props synthAws does not take). */
function synthObjects(level: Level, props: { participants?: readonly string[]; regions?: string } = {}): TfJsonWithBackend {
  const deployment = resolveDeployment(getLab(level), { owner: OWNER, now: NOW, regions: props.regions });
  const stack = new ClusterObjectsStack(Testing.app(), `${deployment.name}-k8s`, {
    deployment,
    participants: props.participants,
    state: AWS_STATE,
  });
  return JSON.parse(Testing.synth(stack)) as TfJsonWithBackend;
}

/** Every kubernetes_* resource of a stack. */
function kubernetesObjects(json: TfJsonWithBackend): Found[] {
  return Object.keys(json.resource)
    .filter((t) => t.startsWith('kubernetes_'))
    .flatMap((t) => resources(json, t));
}

/** The namespace resource a namespaced object's `metadata.namespace` references. */
function namespaceOf(json: TfJsonWithBackend, found: Found): Found | undefined {
  const ref = String(found.props.metadata.namespace);
  return resources(json, 'kubernetes_namespace_v1').find((ns) => ref === `\${${ns.address}.metadata[0].name}`);
}

/** A value with every `${...}` interpolation (nested ones included) removed: the literal text. */
function literalText(value: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '$' && value[i + 1] === '{') {
      depth++;
      i++;
    } else if (depth > 0 && value[i] === '{') depth++;
    else if (depth > 0 && value[i] === '}') depth--;
    else if (depth === 0) out += value[i];
  }
  return out;
}

describe.each([
  { level: 'advanced' as const, regions: undefined },
  { level: 'expert' as const, regions: undefined },
  { level: 'expert' as const, regions: THREE },
])('cluster objects of $level ($regions)', ({ level, regions }) => {
  let s: Synthesized;
  let k8s: TfJsonWithBackend;
  let plan: KubernetesPlan;
  beforeAll(() => {
    s = synthLevel(level, { regions });
    k8s = s.k8s!;
    plan = kubernetesPlan(s.deployment, 'managed');
  });

  it('is a stack of its own, <lab>-k8s, reported after the cluster stack', () => {
    expect(s.stacks.map((x) => x.stack)).toEqual([s.deployment.name, `${s.deployment.name}-k8s`]);
    expect(s.stacks[1]!.file).toMatch(new RegExp(`/stacks/${s.deployment.name}-k8s/cdk\\.tf\\.json$`));
    expect(s.stacks[1]!.resources).toBe(Object.values(k8s.resource).reduce((n, byName) => n + Object.keys(byName).length, 0));
  });

  it('keeps clusters and cluster objects apart: no AWS resource or provider here, no Kubernetes one there', () => {
    expect(Object.keys(k8s.resource).filter((t) => t.startsWith('aws_'))).toEqual([]);
    expect(Object.keys(k8s.provider)).not.toContain('aws');
    expect(Object.keys(s.json.resource).filter((t) => t.startsWith('kubernetes_'))).toEqual([]);
    expect(Object.keys(s.json.provider)).not.toContain('kubernetes');
    expect(Object.keys(s.json.resource)).toContain('aws_eks_cluster');
  });

  it("reads the cluster stack's state from its sibling directory and keeps its own state beside cdk.tf.json", () => {
    const remote = Object.values(k8s.data?.terraform_remote_state ?? {});
    expect(remote).toHaveLength(1);
    expect(remote[0]).toMatchObject({ backend: 'local' });
    const path = remote[0]!.config.path as string;
    // Relative to where terraform runs (stacks/<lab>-k8s), it is the cluster stack's state file.
    expect(posix.join(`stacks/${s.deployment.name}-k8s`, path)).toBe(`stacks/${s.deployment.name}/terraform.tfstate`);
    expect(k8s.terraform?.backend?.local).toEqual({ path: 'terraform.tfstate' });
  });

  it('configures one Kubernetes provider per region from the cluster stack outputs (host, CA, exec token)', () => {
    const providers = k8s.provider.kubernetes ?? [];
    expect(providers).toHaveLength(s.deployment.regions.length);
    const [remoteName] = Object.keys(k8s.data!.terraform_remote_state!);
    const out = (name: string) => `${REMOTE}${remoteName}.outputs.${name}`;
    for (const region of s.deployment.regions) {
      const names = clusterOutputNames(region);
      const p = providers.find((x) => x.host === `\${${out(names.endpoint)}}`);
      expect(p, region).toBeDefined();
      expect(p!.alias).toBe(s.deployment.regions.length > 1 ? regionCode(region) : undefined);
      expect(p!.cluster_ca_certificate).toBe(`\${base64decode(${out(names.ca)})}`);
      const exec = ([] as Props[]).concat(p!.exec)[0]!;
      expect(exec).toMatchObject({ api_version: 'client.authentication.k8s.io/v1beta1', command: 'aws' });
      expect(exec.args).toEqual(['eks', 'get-token', '--cluster-name', `\${${out(names.name)}}`, '--region', region]);
    }
  });

  it('the cluster stack exports every output the providers read', () => {
    for (const region of s.deployment.regions) {
      for (const name of Object.values(clusterOutputNames(region))) expect(s.json.output, name).toHaveProperty(name);
    }
  });

  it('labels every Kubernetes object with the lab, level and its region', () => {
    const objects = kubernetesObjects(k8s);
    expect(objects.length).toBeGreaterThanOrEqual(7 * s.deployment.regions.length);
    for (const o of objects) {
      const region = s.deployment.regions.find(
        (r) => (o.props.provider ?? 'kubernetes') === (s.deployment.regions.length > 1 ? `kubernetes.${regionCode(r)}` : 'kubernetes'),
      );
      expect(o.props.metadata.labels, o.address).toMatchObject({
        [LABEL_LAB]: s.deployment.name,
        [LABEL_LEVEL]: level,
        [LABEL_REGION]: region,
      });
    }
  });

  it("puts every namespaced object in the lab namespace of its own region's cluster", () => {
    const namespaces = resources(k8s, 'kubernetes_namespace_v1');
    expect(namespaces.map((n) => n.props.metadata.name)).toEqual(s.deployment.regions.map(() => plan.namespace));
    expect(new Set(namespaces.map((n) => n.props.provider)).size).toBe(s.deployment.regions.length);
    for (const o of kubernetesObjects(k8s).filter((x) => !x.address.startsWith('kubernetes_namespace_v1.'))) {
      const ns = namespaceOf(k8s, o);
      expect(ns, `${o.address} names no namespace resource`).toBeDefined();
      expect(ns!.props.provider, o.address).toBe(o.props.provider);
    }
  });

  it('enforces Pod Security baseline on the namespace, so pods the learner creates cannot take the node', () => {
    for (const ns of resources(k8s, 'kubernetes_namespace_v1'))
      expect(ns.props.metadata.labels['pod-security.kubernetes.io/enforce'], ns.address).toBe('baseline');
  });

  it('sizes the ResourceQuota and LimitRange from plan.quota', () => {
    const q = plan.quota;
    for (const quota of resources(k8s, 'kubernetes_resource_quota_v1')) {
      expect(quota.props.spec.hard).toEqual({
        pods: String(q.pods),
        services: String(q.services),
        'requests.cpu': q.requests.cpu,
        'requests.memory': q.requests.memory,
        'limits.cpu': q.limits.cpu,
        'limits.memory': q.limits.memory,
      });
    }
    for (const lr of resources(k8s, 'kubernetes_limit_range_v1')) {
      expect(lr.props.spec.limit).toEqual([{ type: 'Container', default: q.defaultLimit, default_request: q.defaultRequest, max: q.max }]);
    }
    expect(resources(k8s, 'kubernetes_resource_quota_v1')).toHaveLength(s.deployment.regions.length);
    expect(resources(k8s, 'kubernetes_limit_range_v1')).toHaveLength(s.deployment.regions.length);
  });

  it('writes the lab Secret with exactly plan.secretKeys, every value a reference and no literal password', () => {
    const secrets = resources(k8s, 'kubernetes_secret_v1');
    expect(secrets).toHaveLength(s.deployment.regions.length);
    for (const secret of secrets) {
      expect(secret.props.metadata.name).toBe(plan.secretName);
      expect(Object.keys(secret.props.data).sort()).toEqual([...plan.secretKeys].sort());
      for (const [key, value] of Object.entries(secret.props.data as Record<string, string>)) {
        expect(value, key).toMatch(/\$\{/);
        // What is left without the references: scheme, user, host punctuation, port, database.
        const literal = literalText(value);
        expect(literal, key).not.toMatch(/:[^/@:]+@/);
        expect(value.includes(REMOTE) || value.includes('random_password.'), key).toBe(true);
      }
    }
  });

  it('builds each connection URL from the right outputs (users, ports and TLS of the aws constructs)', () => {
    const data = resources(k8s, 'kubernetes_secret_v1')[0]!.props.data as Record<string, string>;
    const out = (name: string) => `${REMOTE}cluster.outputs.${name}`;
    if (level === 'advanced') {
      expect(literalText(data.DATABASE_URL!)).toBe('postgres://learner:@:5432/lab?sslmode=require');
      expect(data.DATABASE_URL).toContain(`\${urlencode(${out('postgres_password')})}@\${${out('postgres_endpoint')}}:5432/`);
      expect(literalText(data.REDIS_URL!)).toBe('rediss://default:@:6379');
      expect(data.REDIS_URL).toContain(`\${urlencode(${out('redis_auth_token')})}@\${${out('redis_endpoint')}}:6379`);
      // Amazon MQ's AMQPS port, and its only vhost `/`, written out for every client.
      expect(literalText(data.AMQP_URL!)).toBe('amqps://learner:@:5671/%2F');
      expect(data.AMQP_URL).toContain(
        `\${urlencode(${out('mq_password')})}@\${element(split(":", trimprefix(${out('mq_amqp_endpoint')}, "amqps://")), 0)}:5671/%2F`,
      );
    } else {
      // A JSON list of the shard primaries' URLs, in shard order.
      expect(data.SHARDS).toMatch(/^\$\{jsonencode\(\[.*\]\)\}$/);
      const primaries = [...data.SHARDS!.matchAll(/shard_endpoints\.(\d+)\.primary/g)].map((m) => Number(m[1]));
      expect(primaries).toEqual([0, 1]);
      expect(
        data.SHARDS!.match(/postgres:\/\/learner:\$\{urlencode\(data\.terraform_remote_state\.cluster\.outputs\.postgres_password\)\}@/g),
      ).toHaveLength(2);
      expect(data.SHARDS!.match(/:5432\/lab\?sslmode=require/g)).toHaveLength(2);
    }
  });

  it('signs tokens with a generated random_password of at least 48 characters, shared by every region', () => {
    const passwords = resources(k8s, 'random_password');
    expect(passwords).toHaveLength(1);
    expect(passwords[0]!.props.length).toBeGreaterThanOrEqual(48);
    expect(JWT_SECRET_LENGTH).toBeGreaterThanOrEqual(48);
    for (const secret of resources(k8s, 'kubernetes_secret_v1'))
      expect(secret.props.data.JWT_SECRET).toBe(`\${${passwords[0]!.address}.result}`);
  });

  it("writes the endpoints ConfigMap: the region's Kafka bootstrap with Kafka, empty without", () => {
    const maps = resources(k8s, 'kubernetes_config_map_v1');
    expect(maps).toHaveLength(s.deployment.regions.length);
    for (const cm of maps) {
      expect(cm.props.metadata.name).toBe(plan.endpointsName);
      if (level === 'advanced') {
        expect(cm.props.data ?? {}).toEqual({});
        continue;
      }
      const region = s.deployment.regions.find((r) => cm.props.provider === `kubernetes.${regionCode(r)}`)!;
      expect(cm.props.data).toEqual({ KAFKA_BROKERS: `\${${REMOTE}cluster.outputs.kafka_bootstrap["${region}"]}` });
    }
  });

  it('gives learners a namespaced Role without wildcards, cluster-wide power or RBAC/secret writes', () => {
    expect(Object.keys(k8s.resource).filter((t) => /cluster_role/.test(t))).toEqual([]);
    const roles = resources(k8s, 'kubernetes_role_v1');
    expect(roles).toHaveLength(s.deployment.regions.length);
    for (const role of roles) {
      const rules = role.props.rule as { api_groups: string[]; resources: string[]; verbs: string[]; resource_names?: string[] }[];
      const all = rules.flatMap((r) => [...r.api_groups, ...r.resources, ...r.verbs]);
      expect(
        all.filter((x) => x.includes('*')),
        role.address,
      ).toEqual([]);
      expect(rules.flatMap((r) => r.verbs).filter((v) => ['escalate', 'bind', 'impersonate', 'approve', 'sign'].includes(v))).toEqual([]);
      expect(rules.flatMap((r) => r.api_groups).filter((g) => /rbac|certificates|admissionregistration|apiextensions/.test(g))).toEqual([]);
      const granted = rules.flatMap((r) => r.resources);
      expect(
        granted.filter((x) =>
          [
            'namespaces',
            'nodes',
            'resourcequotas',
            'limitranges',
            'serviceaccounts',
            'serviceaccounts/token',
            'persistentvolumes',
          ].includes(x),
        ),
      ).toEqual([]);
      expect(
        rules
          .filter((r) => r.resources.includes('secrets'))
          .flatMap((r) => r.verbs)
          .sort(),
      ).toEqual(['get', 'list']);
      // What a learner practises with.
      for (const needed of [
        'pods',
        'pods/log',
        'pods/portforward',
        'services',
        'configmaps',
        'deployments',
        'statefulsets',
        'jobs',
        'horizontalpodautoscalers',
        'networkpolicies',
      ]) {
        expect(granted, needed).toContain(needed);
      }
    }
  });

  it('binds the learner Role to the lab learner group, in the namespace', () => {
    const bindings = resources(k8s, 'kubernetes_role_binding_v1');
    expect(bindings).toHaveLength(s.deployment.regions.length);
    for (const b of bindings) {
      expect(b.props.role_ref.kind).toBe('Role');
      const role = resources(k8s, 'kubernetes_role_v1').find((r) => b.props.role_ref.name === `\${${r.address}.metadata[0].name}`);
      expect(role, b.address).toBeDefined();
      expect(role!.props.provider).toBe(b.props.provider);
      expect(b.props.subject).toEqual([
        { api_group: 'rbac.authorization.k8s.io', kind: 'Group', name: k8sLearnerGroup(s.deployment.name) },
      ]);
    }
  });

  it('exports the namespace names per region', () => {
    expect(k8s.output?.namespaces?.value).toEqual(Object.fromEntries(s.deployment.regions.map((r) => [r, [plan.namespace]])));
  });
});

describe('cluster objects: which labs, participants, validation', () => {
  it('adds no cluster-objects stack to labs without a Kubernetes cluster', () => {
    for (const level of ['beginner', 'intermediate'] as const) {
      const s = synthLevel(level);
      expect(s.stacks.map((x) => x.stack)).toEqual([level]);
      expect(s.k8s).toBeUndefined();
    }
  });

  it('gives every participant a namespace with quota, limits, learner binding, Secret and ConfigMap in every region', () => {
    const json = synthObjects('expert', { participants: PARTICIPANTS });
    const regions = getLab('expert').regions.default;
    for (const p of PARTICIPANTS) {
      const name = k8sNamespace('expert', p);
      const namespaces = resources(json, 'kubernetes_namespace_v1').filter((n) => n.props.metadata.name === name);
      expect(namespaces, p).toHaveLength(regions.length);
      for (const ns of namespaces) {
        expect(ns.props.metadata.labels[LABEL_PARTICIPANT]).toBe(p);
        const inside = kubernetesObjects(json).filter((o) => namespaceOf(json, o)?.address === ns.address);
        const types = inside.map((o) => o.address.split('.')[0]).sort();
        expect(types, `${p} in ${ns.props.provider}`).toEqual([
          'kubernetes_config_map_v1',
          'kubernetes_limit_range_v1',
          'kubernetes_resource_quota_v1',
          'kubernetes_role_binding_v1',
          'kubernetes_role_v1',
          'kubernetes_secret_v1',
        ]);
        for (const o of inside) expect(o.props.metadata.labels[LABEL_PARTICIPANT], o.address).toBe(p);
        const binding = inside.find((o) => o.address.startsWith('kubernetes_role_binding_v1.'))!;
        // Their own group: one participant cannot change another's namespace.
        expect(binding.props.subject[0].name).toBe(`lf-expert-${p}-learners`);
        expect(binding.props.subject[0].name).not.toBe(k8sLearnerGroup('expert'));
      }
    }
    expect(json.output?.namespaces?.value).toEqual(
      Object.fromEntries(regions.map((r) => [r, ['lf-expert', 'lf-expert-alice', 'lf-expert-bob']])),
    );
  });

  it('refuses bad or repeated participant names, naming the stack', () => {
    expect(() => synthObjects('advanced', { participants: ['Alice'] })).toThrow(
      "advanced-k8s: participant 'Alice' must be lowercase letters, digits and inner hyphens",
    );
    expect(() => synthObjects('advanced', { participants: ['bob', 'bob'] })).toThrow("advanced-k8s: participant 'bob' is listed twice");
    expect(() => synthObjects('advanced', { participants: ['x'.repeat(60)] })).toThrow(
      /advanced-k8s: participant 'x+' makes namespace 'lf-advanced-x+' too long/,
    );
  });

  it('refuses a lab without a Kubernetes cluster, naming the stack', () => {
    const deployment = resolveDeployment(getLab('intermediate'), { owner: OWNER, now: NOW });
    expect(() => new ClusterObjectsStack(Testing.app(), 'intermediate-k8s', { deployment, state: AWS_STATE })).toThrow(
      'intermediate-k8s: the intermediate lab has no kubernetes-cluster component',
    );
  });

  it("refuses a lab name whose stack would collide with another lab's <lab>-k8s stack", () => {
    const app = new App({ outdir: '/tmp/labforge-unused' });
    const lab = getLab('advanced');
    expect(() =>
      addLabStacks(app, [resolveDeployment(lab, { owner: OWNER, name: 'w' }), resolveDeployment(lab, { owner: OWNER, name: 'w-k8s' })]),
    ).toThrow("two stacks are named 'w-k8s'");
  });
});
