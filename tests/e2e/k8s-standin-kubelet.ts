// A STAND-IN for the kubelet, for tests only: this machine has no container runtime, so no real
// kubelet can run pods. It does through the real API server what a kubelet reports: a Ready
// node, pods bound to it and marked Running/Ready with the node's address, and the final
// deletion of terminating pods. A stand-in HTTP server on that address answers for the pods,
// so the API server's service proxy reaches "the pods" over real TCP.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { KubeClient } from '../../constructs/k8s/client.js';
import type { TestCluster } from './k8s-cluster.js';
import { cleanupMayFail } from '../../constructs/model/quiet.js';

export const STANDIN_NODE = 'standin';

export interface StandInKubelet {
  /** Pods the stand-in has made Ready. */
  readonly readied: ReadonlySet<string>;
  stop(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Pod conditions and statuses a kubelet writes for a running, ready pod. */
function runningStatus(pod: any, ip: string): unknown {
  const condition = (type: string) => ({ type, status: 'True', lastTransitionTime: now() });
  return {
    status: {
      phase: 'Running',
      hostIP: ip,
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now(),
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(condition),
      containerStatuses: pod.spec.containers.map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now() } },
      })),
    },
  };
}

/**
 * Starts the stand-in for the pods of `namespace`: binds, readies and finalizes them every
 * 300 ms, and answers HTTP on `ip`:`port` (`/health` -> `{"status":"ok"}`) for them.
 */
export async function startStandInKubelet(
  cluster: TestCluster,
  options: { namespace: string; ip: string; port: number },
): Promise<StandInKubelet> {
  const client = new KubeClient({
    context: 'standin',
    server: cluster.url,
    ca: readFileSync(cluster.caFile),
    token: cluster.token,
    insecure: false,
    files: [],
  });
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: STANDIN_NODE, labels: { 'kubernetes.io/hostname': STANDIN_NODE } } };
  await client.call('POST', '/api/v1/nodes', node, 'application/json', [409]);
  const ready = {
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'StandIn', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      addresses: [{ type: 'InternalIP', address: options.ip }],
    },
  };
  await client.call('PATCH', `/api/v1/nodes/${STANDIN_NODE}/status`, ready, 'application/merge-patch+json');

  const server: Server = createServer((req, res) => {
    const healthy = req.url === '/health';
    res.writeHead(healthy ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(healthy ? { status: 'ok', instance: 'stand-in' } : { error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, options.ip, resolve));

  const readied = new Set<string>();
  let stopping = false;
  const pods = (path: string) => `/api/v1/namespaces/${options.namespace}/pods${path}`;
  const tick = async () => {
    const list = await client.call<{ items: any[] }>('GET', pods(''), undefined, undefined, [404]);
    for (const pod of list.body?.items ?? []) {
      const name: string = pod.metadata.name;
      if (pod.metadata.deletionTimestamp) {
        // What a kubelet does once the containers stopped: remove the pod for good.
        await client.call(
          'DELETE',
          pods(`/${name}`),
          { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 },
          'application/json',
          [404],
        );
        continue;
      }
      if (!pod.spec.nodeName) {
        const binding = {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name },
          target: { apiVersion: 'v1', kind: 'Node', name: STANDIN_NODE },
        };
        await client.call('POST', pods(`/${name}/binding`), binding, 'application/json', [404, 409]);
      }
      if (!readied.has(name)) {
        const res = await client.call(
          'PATCH',
          pods(`/${name}/status`),
          runningStatus(pod, options.ip),
          'application/merge-patch+json',
          [404, 409],
        );
        if (res.status < 300) readied.add(name);
      }
    }
  };
  const loop = (async () => {
    while (!stopping) {
      await tick().catch(cleanupMayFail); // the namespace may be gone between list and update
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();

  return {
    readied,
    async stop() {
      stopping = true;
      await loop;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.call('DELETE', `/api/v1/nodes/${STANDIN_NODE}`, undefined, undefined, [404]);
      client.close();
    },
  };
}
