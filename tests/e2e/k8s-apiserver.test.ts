// A real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager, no scheduler
// or kubelet) from tests/e2e/k8s-cluster.ts: authentication is enforced, kubectl apply stores the
// smoke objects as written, the controller-manager turns the Deployment into a ReplicaSet and
// Pods (which stay Pending: nothing schedules or runs them), a deleted namespace is finalized by
// itself and leaves nothing behind, and stop leaves no process and no directory.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesUsing, until } from './helpers.js';
import { startTestCluster, type TestCluster } from './k8s-cluster.js';

const execFileAsync = promisify(execFile);
const SMOKE_YAML = join(import.meta.dirname, '../../scripts/k8s/testdata/smoke.yaml');
const NAMESPACE = 'labforge-smoke';
/** Every object of smoke.yaml carries it (pod template included). */
const SMOKE_LABEL = 'app.kubernetes.io/part-of=labforge-smoke';

interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** GET over TLS verified against the cluster's CA, with an optional bearer token. */
function get(cluster: TestCluster, path: string, token?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cluster.url),
      { ca: readFileSync(cluster.caFile), headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function kubectl(cluster: TestCluster, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], { timeout: 30_000 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

async function kubectlJson<T = any>(cluster: TestCluster, ...args: string[]): Promise<T> {
  return JSON.parse(await kubectl(cluster, ...args, '-o', 'json')) as T;
}

/** 10.96.0.0/24 is the --service-cluster-ip-range apiserver.sh passes. */
function inServiceRange(ip: string): boolean {
  const octets = ip.split('.').map(Number);
  return octets.length === 4 && octets[0] === 10 && octets[1] === 96 && octets[2] === 0 && octets[3]! > 0 && octets[3]! < 255;
}

describe('Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager)', () => {
  let cluster: TestCluster | undefined;
  const live = (): TestCluster => {
    if (!cluster) throw new Error('the cluster did not start (see beforeAll)');
    return cluster;
  };

  // Teardown first: whatever fails below, the three processes and the directory go away.
  afterAll(() => cluster?.stop());
  // Start-up runs three servers and generates four RSA keys: allow more than the default hook time.
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 240_000);

  it('answers 401 without a token or with a wrong one, and 200 with the admin token', async () => {
    const c = live();
    expect((await get(c, '/api/v1/namespaces')).status).toBe(401);
    expect((await get(c, '/api/v1/namespaces', 'not-the-token')).status).toBe(401);
    const version = await get(c, '/version', c.token);
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body).gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect((await get(c, '/api/v1/namespaces', c.token)).status).toBe(200);
    // Files that hold the token or a private key are readable by their owner only.
    expect(readFileSync(c.kubeconfig, 'utf8')).toContain(c.token);
    for (const file of ['kubeconfig', 'env', 'tokens.csv', 'ca.key', 'sa.key', 'serving.key']) {
      expect((statSync(join(c.dir, file)).mode & 0o777).toString(8), file).toBe('600');
    }
  });

  it('kubectl apply stores the smoke objects as written', async () => {
    const c = live();
    const applied = await kubectl(c, 'apply', '-f', SMOKE_YAML);
    expect(applied).toMatch(/namespace\/labforge-smoke (created|configured)/);

    const deployment = await kubectlJson(c, '-n', NAMESPACE, 'get', 'deployment', 'web');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].image).toBe('nginx:1.27');

    const service = await kubectlJson(c, '-n', NAMESPACE, 'get', 'service', 'web');
    expect(service.spec.type).toBe('ClusterIP');
    expect(inServiceRange(service.spec.clusterIP), `clusterIP ${service.spec.clusterIP}`).toBe(true);
    // The apiserver's own `kubernetes` Service holds the range's first address.
    expect(service.spec.clusterIP).not.toBe('10.96.0.1');

    const policy = await kubectlJson(c, '-n', NAMESPACE, 'get', 'networkpolicy', 'web-allow-same-namespace');
    expect(policy.spec.ingress[0].ports[0]).toEqual({ protocol: 'TCP', port: 80 });
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
  });

  it('the controller-manager gives the Deployment a ReplicaSet and 2 Pods, which stay Pending', async () => {
    const c = live();
    const deployment = await kubectlJson(c, '-n', NAMESPACE, 'get', 'deployment', 'web');
    const replicaSet = await until('a ReplicaSet owned by deployment/web', 30_000, async () => {
      const list = await kubectlJson(c, '-n', NAMESPACE, 'get', 'replicasets');
      return list.items.find((rs: any) => rs.metadata.ownerReferences?.some((o: any) => o.uid === deployment.metadata.uid && o.controller));
    });
    expect(replicaSet.spec.replicas).toBe(2);

    const pods = await until('2 Pods owned by the ReplicaSet', 30_000, async () => {
      const list = await kubectlJson(c, '-n', NAMESPACE, 'get', 'pods', '-l', 'app=web');
      const owned = list.items.filter((p: any) => p.metadata.ownerReferences?.some((o: any) => o.uid === replicaSet.metadata.uid));
      return owned.length === 2 ? owned : undefined;
    });
    // No scheduler and no kubelet: never bound to a node, never running.
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Pending');
      expect(pod.spec.nodeName).toBeUndefined();
      // The serviceaccount controller made `default` first, or admission would have refused the Pod.
      expect(pod.spec.serviceAccountName).toBe('default');
    }
    // The deployment controller reports what it made; none of it is available.
    const status = await until('deployment/web status with 2 replicas', 30_000, async () => {
      const d = await kubectlJson(c, '-n', NAMESPACE, 'get', 'deployment', 'web');
      return d.status?.replicas === 2 ? d.status : undefined;
    });
    expect(status.availableReplicas ?? 0).toBe(0);

    // The endpointslice controller covers the Service (no ready addresses: nothing runs).
    const slice = await until('an EndpointSlice for service/web', 30_000, async () => {
      const list = await kubectlJson(c, '-n', NAMESPACE, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web');
      return list.items[0];
    });
    expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect((slice.endpoints ?? []).filter((e: any) => e.conditions?.ready)).toEqual([]);
  });

  it('deleting the namespace finalizes it within 30 s and leaves nothing with its label', async () => {
    const c = live();
    await kubectl(c, 'delete', 'namespace', NAMESPACE, '--wait=false');
    const started = Date.now();
    await until(`namespace ${NAMESPACE} gone`, 30_000, async () =>
      (await get(c, `/api/v1/namespaces/${NAMESPACE}`, c.token)).status === 404 ? true : undefined,
    );
    expect(Date.now() - started).toBeLessThan(30_000);

    const kinds = 'namespaces,deployments,replicasets,pods,services,endpointslices,networkpolicies';
    const left = await kubectl(c, 'get', kinds, '--all-namespaces', '-l', SMOKE_LABEL, '-o', 'name');
    expect(left.trim()).toBe('');
    // Nothing else either: the namespace controller emptied it before removing its finalizer.
    const pods = await get(c, `/api/v1/namespaces/${NAMESPACE}/pods`, c.token);
    expect(JSON.parse(pods.body).items).toEqual([]);
  });

  it('stop leaves no process and no directory', async () => {
    const c = live();
    const pids = ['ETCD_PID', 'APISERVER_PID', 'CONTROLLER_MANAGER_PID'].map((key) => Number(c.env[key]));
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid} before stop`).toBe(true);
    await c.stop();
    expect(processesUsing(c.dir)).toEqual([]);
    expect(existsSync(c.dir)).toBe(false);
  });
});
