// The k8s target against a REAL control plane (etcd + kube-apiserver + kube-controller-manager
// built from the Kubernetes Go module): the synthesized manifests apply, read back and delete
// with nothing left; `labforge up/health/status/secrets/down --target k8s` work through the API.
// There is no kubelet or container runtime on this machine, so pods are created by the real
// controllers but never run: `up` must say so (exit 1, pods Pending) and `down` must still
// remove everything.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, json, makeHome, type CliResult } from './helpers.js';
import { startTestCluster, type TestCluster } from './k8s-cluster.js';
import { startStandInKubelet, type StandInKubelet } from './k8s-standin-kubelet.js';

const run = promisify(execFile);
const LAB = 'kadv';
const NAMESPACE = `lf-${LAB}`;

let cluster: TestCluster;
let home: string;
let parent: string;
const kubectl = async (...args: string[]) =>
  (await run(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
const items = async (...args: string[]) => (JSON.parse(await kubectl('get', ...args, '-o', 'json')) as { items: any[] }).items;
const lf = (args: string[], timeoutMs = 120_000): Promise<CliResult> => cli(args, { home, timeoutMs });

// Teardown first, so a failing start or test never leaves a control plane or a lab behind.
afterAll(async () => {
  try {
    if (home && existsSync(home) && cluster) await lf(['down', '--all']);
  } finally {
    await cluster?.stop();
    if (parent) rmSync(parent, { recursive: true, force: true });
  }
}, 240_000);

beforeAll(async () => {
  ({ parent, home } = makeHome('k8s'));
  cluster = await startTestCluster();
  process.env.KUBECONFIG = cluster.kubeconfig;
}, 240_000);

/** Everything with the lab label, of the kinds labforge writes, across the cluster. */
async function labelled(lab: string): Promise<string[]> {
  const kinds =
    'namespaces,configmaps,secrets,services,deployments,statefulsets,replicasets,pods,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies,roles,rolebindings,resourcequotas,limitranges';
  return (await kubectl('get', kinds, '-A', '-l', `labforge.dev/lab=${lab}`, '-o', 'name')).split('\n').filter(Boolean);
}

async function namespaceGone(name: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await items('namespaces')).every((n) => n.metadata.name !== name)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

describe('synthesized manifests on a real API server', () => {
  it('apply with kubectl, read back as written, delete with nothing left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lf-k8s-synth-'));
    try {
      const synth = await lf(['synth', 'expert', '--target', 'k8s', '--name', 'kexp', '--out', out]);
      expect(synth.code, synth.stderr).toBe(0);
      const file = join(out, 'kexp', 'kexp.k8s.yaml');
      // Server-side apply: the program bundles are larger than client-side apply's annotation limit.
      await kubectl('apply', '--server-side', '-f', file);
      const deployments = await items('deployments', '-n', 'lf-kexp');
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['api-euw1', 'api-use1']);
      const api = deployments.find((d) => d.metadata.name === 'api-use1');
      expect(api.spec.template.spec.containers[0].securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(api.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/health');
      const events = (await items('statefulsets', '-n', 'lf-kexp')).find((s) => s.metadata.name === 'events');
      expect(events.spec.replicas).toBe(3);
      const policies = (await items('networkpolicies', '-n', 'lf-kexp')).map((p) => p.metadata.name);
      expect(policies).toContain('default-deny');
      const ns = (await items('namespaces')).find((n) => n.metadata.name === 'lf-kexp');
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
      // The real controllers act on what was applied: the StatefulSet gets its pods (which never run here).
      await expect
        .poll(async () => (await items('pods', '-n', 'lf-kexp', '-l', 'app.kubernetes.io/name=events')).length, { timeout: 30_000 })
        .toBe(3);

      await kubectl('delete', '-f', file, '--wait=true', '--timeout=90s');
      expect(await namespaceGone('lf-kexp')).toBe(true);
      expect(await labelled('kexp')).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('labforge up/health/status/down --target k8s', () => {
  it('up applies the lab with a generated Secret, waits, and says the pods cannot run (exit 1)', async () => {
    const r = await lf(['up', 'advanced', '--target', 'k8s', '--name', LAB, '--timeout', '15s']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/applying \d+ objects to labforge-test/);
    expect(r.stderr).toMatch(/api\s+NOT READY after \d+s: Pending, not scheduled/);
    expect(r.stdout).toMatch(/health checks pass/);
    // What up created is recorded, so `down` can remove it after any failure.
    const state = JSON.parse(readFileSync(join(home, LAB, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ target: 'k8s', namespace: NAMESPACE, context: 'labforge-test' });
    expect(statSync(join(home, LAB, 'secrets.json')).mode & 0o777).toBe(0o600);
    // The Secret holds connection URLs whose passwords are the generated ones; no manifest had them.
    const secrets = JSON.parse(readFileSync(join(home, LAB, 'secrets.json'), 'utf8'));
    const secret = JSON.parse(await kubectl('get', 'secret', `lf-${LAB}-secrets`, '-n', NAMESPACE, '-o', 'json'));
    const data = Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(Object.keys(data).sort()).toEqual([
      'AMQP_URL',
      'DATABASE_URL',
      'JWT_SECRET',
      'POSTGRES_PASSWORD',
      'RABBITMQ_PASSWORD',
      'REDIS_PASSWORD',
      'REDIS_URL',
    ]);
    expect(data.DATABASE_URL).toBe(`postgres://learner:${secrets.postgres.password}@db:5432/lab`);
    expect(r.stdout + r.stderr).not.toContain(secrets.postgres.password);
    // The controllers made the API's ReplicaSet and pods from the applied Deployment.
    expect((await items('replicasets', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=api')).length).toBe(1);
  }, 120_000);

  it('health fails naming each workload whose pods are not ready, through the API', async () => {
    const r = await lf(['health', LAB, '--json']);
    expect(r.code).toBe(1);
    const report = json(r);
    const byName = Object.fromEntries(report.checks.map((c: any) => [c.name, c]));
    for (const w of ['api', 'worker', 'db', 'cache', 'mq']) expect(byName[`${w} pods ready`]?.ok, w).toBe(false);
    expect(byName['api pods ready'].detail).toMatch(/Pending, not scheduled/);
    expect(byName['api endpoints']).toMatchObject({ ok: false });
    expect(byName['api GET /health']).toMatchObject({ ok: false });
  }, 60_000);

  it('status lists the workloads with ready/desired pods; secrets prints the generated passwords', async () => {
    const status = json(await lf(['status', LAB, '--json']));
    expect(status).toMatchObject({ target: 'k8s', namespace: NAMESPACE });
    expect(status.components.map((c: any) => c.component).sort()).toEqual(['api', 'cache', 'db', 'mq', 'worker']);
    for (const c of status.components) expect(c.state).toMatch(/^0\/\d+ ready$/);
    const secrets = json(await lf(['secrets', LAB, '--json']));
    expect(secrets.postgres.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  }, 60_000);

  it('a second up keeps the generated passwords (the Secret is not rotated under running pods)', async () => {
    const before = JSON.parse(readFileSync(join(home, LAB, 'secrets.json'), 'utf8'));
    const r = await lf(['up', 'advanced', '--target', 'k8s', '--name', LAB, '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(join(home, LAB, 'secrets.json'), 'utf8'))).toEqual(before);
  }, 60_000);

  it('down deletes by label and the namespace, proves nothing is left, removes the lab directory', async () => {
    const r = await lf(['down', LAB, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const receipt = json(r);
    expect(receipt).toMatchObject({ ok: true, target: 'k8s', namespace: { name: NAMESPACE, removed: true }, directory: { removed: true } });
    expect(receipt.kinds.every((k: any) => k.left.length === 0)).toBe(true);
    // Checked independently of labforge.
    expect(await labelled(LAB)).toEqual([]);
    expect((await items('namespaces')).map((n) => n.metadata.name)).not.toContain(NAMESPACE);
    expect(existsSync(join(home, LAB))).toBe(false);
  }, 180_000);
});

/** A non-loopback IPv4 address of this machine: the API server proxy refuses loopback targets. */
function nodeAddress(): string {
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!ip) throw new Error('this machine has no non-loopback IPv4 address for the stand-in node (the API server proxy refuses loopback)');
  return ip;
}

describe('up reaches healthy when the pods run (stand-in kubelet: pod status written through the API, a stand-in HTTP server for the pods)', () => {
  const name = 'khappy';
  let kubelet: StandInKubelet | undefined;
  afterAll(async () => kubelet?.stop());

  it('up waits for every workload to be ready, then passes every check through the API', async () => {
    kubelet = await startStandInKubelet(cluster, { namespace: `lf-${name}`, ip: nodeAddress(), port: 8080 });
    const r = await lf(['up', 'advanced', '--target', 'k8s', '--name', name, '--timeout', '90s', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = json(r);
    expect(result).toMatchObject({ rolledOut: true, namespace: `lf-${name}`, target: 'k8s' });
    const checks = Object.fromEntries(result.health.map((h: any) => [h.name, h]));
    expect(Object.keys(checks).sort()).toEqual([
      'api GET /health',
      'api endpoints',
      'api pods ready',
      'cache pods ready',
      'db pods ready',
      'mq pods ready',
      'worker pods ready',
    ]);
    for (const h of result.health) expect(h.ok, `${h.name}: ${h.detail}`).toBe(true);
    // The HPA brought the API to its 3 instances; the stand-in readied each pod it was given.
    expect(checks['api pods ready'].detail).toBe('3/3 ready');
    expect(checks['api GET /health'].detail).toMatch(/through the API server proxy/);
    expect(r.stderr).toMatch(/api\s+3\/3 ready/);
  }, 150_000);

  it('down removes it while pods are running (terminating pods finalized), nothing left', async () => {
    const r = await lf(['down', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing left/);
    expect(await labelled(name)).toEqual([]);
  }, 150_000);
});

describe('k8s target faults', () => {
  it('refuses a namespace that is not the lab (exit 1), creating nothing', async () => {
    await kubectl('create', 'namespace', 'lf-clash');
    try {
      const r = await lf(['up', 'advanced', '--target', 'k8s', '--name', 'clash']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^labforge: namespace lf-clash already exists and is not labforge lab 'clash'/);
      expect(existsSync(join(home, 'clash'))).toBe(false);
      expect((await items('configmaps', '-n', 'lf-clash')).filter((c) => c.metadata.labels?.['labforge.dev/lab'])).toEqual([]);
    } finally {
      await kubectl('delete', 'namespace', 'lf-clash', '--wait=false');
    }
  }, 60_000);

  it('a lab whose cluster is gone: health and status say so per lab, down fails with one line and keeps the state', async () => {
    const config = join(parent, 'gone.kubeconfig');
    writeFileSync(
      config,
      readFileSync(cluster.kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:9'),
    );
    const dir = join(home, 'kgone');
    mkdirSync(dir, { recursive: true });
    const state = {
      version: 1,
      name: 'kgone',
      level: 'advanced',
      target: 'k8s',
      createdAt: '2026-12-01T00:00:00Z',
      updatedAt: '2026-12-01T00:00:00Z',
      context: 'labforge-test',
      server: 'https://127.0.0.1:9',
      namespace: 'lf-kgone',
      regions: ['us-east-1'],
      objects: [],
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    const env = { KUBECONFIG: config };
    const health = await cli(['health', 'kgone', '--json'], { home, env });
    expect(health.code).toBe(1);
    expect(json(health).checks).toEqual([
      expect.objectContaining({
        name: 'kubernetes API (labforge-test)',
        ok: false,
        detail: expect.stringMatching(/cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:9/),
      }),
    ]);
    const status = await cli(['status', 'kgone'], { home, env });
    expect(status.stdout).toMatch(/kgone .* unreachable: cannot reach the Kubernetes API/);
    const down = await cli(['down', 'kgone'], { home, env });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^labforge: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:9/m);
    expect(existsSync(join(dir, 'state.json'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('an unreachable API server is one clear line (exit 1) and nothing is created', async () => {
    const config = join(parent, 'closed.kubeconfig');
    writeFileSync(
      config,
      readFileSync(cluster.kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:9'),
    );
    const r = await cli(['up', 'advanced', '--target', 'k8s', '--name', 'nowhere'], {
      home,
      timeoutMs: 60_000,
      env: { KUBECONFIG: config },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^labforge: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:9 \(context labforge-test\)/);
    expect(existsSync(join(home, 'nowhere'))).toBe(false);
  }, 60_000);
});
