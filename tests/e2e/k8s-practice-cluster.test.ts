// The practice cluster (scripts/k8s/cluster.sh), for real: a kubelet running real containers on
// containerd + runc, a CNI bridge, kube-proxy, CoreDNS, a NetworkPolicy enforcer and
// metrics-server, in namespaces of their own. A restricted pod serves HTTP to the host and to
// another pod, DNS and a ClusterIP work from a pod, a default-deny policy blocks a connection that
// an allow rule then lets through (for the allowed pod only), metrics, exec, logs and port-forward
// work, no route leads out of the machine, and `down` leaves nothing on the host.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupMayFail } from '../../constructs/model/quiet.js';
import { pidAlive, until } from './helpers.js';
import {
  assertPracticeClusterPrerequisites,
  clusterSh,
  clusterTraces,
  ensurePracticeCluster,
  hostSnapshot,
  inNode,
  practiceImage,
  run,
  type HostSnapshot,
  type PracticeCluster,
} from './k8s-practice.js';

const NAME = 'lf-e2e';
const NS = 'practice';

/** web: the restricted pod under test; client and stranger: pods that connect to it. */
function workload(image: string): string {
  const restricted = `
      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`;
  const sleeper = (name: string, role: string) => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: {role: ${role}}}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${image}
      imagePullPolicy: Never
      command: [sh, -c, 'echo ${name}-started; exec sleep 3600']${restricted}`;
  return `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true}
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: ${image}
      imagePullPolicy: Never
      command: [sh, -c, 'echo "hello from $HOSTNAME" > /data/index.html && exec httpd -f -vv -p 8080 -h /data']
      ports: [{containerPort: 8080}]
      readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}${restricted}
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {sizeLimit: 8Mi}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
${sleeper('client', 'client')}
${sleeper('stranger', 'stranger')}
`;
}

const DENY_ALL = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ${NS}}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;
const ALLOW_CLIENT = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {role: client}}}]
      ports: [{port: 8080}]
`;

/** Writes 12 MiB into a 4 MiB emptyDir: the kubelet must evict it. */
const FILLER = `
apiVersion: v1
kind: Pod
metadata: {name: filler, namespace: ${NS}}
spec:
  securityContext: {runAsUser: 1000, runAsNonRoot: true}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: IMAGE
      imagePullPolicy: Never
      command: [sh, -c, 'dd if=/dev/zero of=/data/fill bs=1M count=12 && exec sleep 3600']
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {sizeLimit: 4Mi}}]
`;

let cluster: PracticeCluster;
let before: HostSnapshot;
let webIp = '';
let serviceIp = '';

/** GET from the host; resolves status and body. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

/** A shell command in a pod (busybox sh); resolves its output, rejects when it fails. */
function inPod(pod: string, script: string, timeoutMs = 20_000): Promise<string> {
  return cluster.kubectl(['-n', NS, 'exec', pod, '--', 'sh', '-c', script], { timeoutMs });
}

/** Whether `from` gets web's page within 3 s (busybox wget; its own -T crashes, hence timeout). */
async function reaches(from: string, url = `http://${webIp}:8080/`): Promise<boolean> {
  try {
    return (await inPod(from, `timeout 3 wget -qO- ${url}`)).includes('hello from web');
  } catch {
    return false;
  }
}

describe('the practice cluster (real kubelet, containerd, CNI, kube-proxy, CoreDNS, policy, metrics)', () => {
  beforeAll(async () => {
    await assertPracticeClusterPrerequisites();
    // A cluster of this name left by a killed run is removed first: this test measures a fresh up.
    await clusterSh(['down', '--name', NAME]);
    before = hostSnapshot();
    cluster = await ensurePracticeCluster(NAME);
    await cluster.kubectl(['apply', '-f', '-'], { input: workload(practiceImage('busybox')) });
    await cluster.kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/web', 'pod/client', 'pod/stranger', '--timeout=90s'], {
      timeoutMs: 100_000,
    });
    webIp = (await cluster.kubectl(['-n', NS, 'get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}'])).trim();
    serviceIp = (await cluster.kubectl(['-n', NS, 'get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // kube-proxy programs a new Service within a second or two.
    await until('Service web programmed', 30_000, async () => (await httpGet(`http://${serviceIp}/`)).status === 200 || undefined);
  }, 300_000);

  afterAll(async () => {
    await cluster?.down().catch(cleanupMayFail);
  }, 120_000);

  it('has a Ready node: a real kubelet v1.37.2 on containerd, untainted, up in under 60 s; a second up returns at once', async () => {
    const node = JSON.parse(await cluster.kubectl(['get', 'node', NAME, '-o', 'json']));
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready.status).toBe('True');
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.37.2');
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    // The node-lifecycle controller took the not-ready taint off.
    expect(node.spec.taints ?? []).toEqual([]);
    expect(cluster.upSeconds).toBeGreaterThan(0);
    expect(cluster.upSeconds).toBeLessThan(60);

    const started = Date.now();
    const again = await clusterSh(['up', '--name', NAME]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(again.stdout.trim()).toBe(`export KUBECONFIG=${cluster.kubeconfig}`);
    expect((await clusterSh(['env', '--name', NAME])).stdout.trim()).toBe(`export KUBECONFIG=${cluster.kubeconfig}`);
  });

  it('runs a restricted pod: uid 1000, read-only root, an emptyDir with a sizeLimit, Ready by its httpGet probe', async () => {
    const pod = JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'pod', 'web', '-o', 'json']));
    expect(pod.status.phase).toBe('Running');
    expect(pod.status.containerStatuses[0].ready).toBe(true);
    expect(pod.spec.containers[0].readinessProbe.httpGet.port).toBe(8080);
    expect(pod.spec.volumes.find((v: { name: string }) => v.name === 'data').emptyDir.sizeLimit).toBe('8Mi');
    expect((await inPod('web', 'id -u')).trim()).toBe('1000');
    await expect(inPod('web', 'touch /probe')).rejects.toThrow(/Read-only file system/);
    expect((await inPod('web', 'echo written > /data/probe && cat /data/probe')).trim()).toBe('written');
  });

  it('evicts a pod that writes more into its emptyDir than the sizeLimit allows', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: FILLER.replace('IMAGE', practiceImage('busybox')) });
    const reason = await until(
      'pod filler evicted',
      90_000,
      async () => {
        const status = JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'pod', 'filler', '-o', 'jsonpath={.status}']));
        return status.phase === 'Failed' ? `${status.reason}: ${status.message}` : undefined;
      },
      2000,
    );
    expect(reason).toBe('Evicted: Usage of EmptyDir volume "data" exceeds the limit "4Mi". ');
    // The restricted pod, within its limit, is untouched.
    expect((await cluster.kubectl(['-n', NS, 'get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).trim()).toBe('Running');
  }, 120_000);

  it('serves HTTP on the pod IP to the host and to another pod', async () => {
    const fromHost = await httpGet(`http://${webIp}:8080/`);
    expect(fromHost).toEqual({ status: 200, body: 'hello from web\n' });
    expect(await reaches('client')).toBe(true);
  });

  it('resolves a Service name from a pod through CoreDNS, and no name outside the cluster', async () => {
    const answer = await inPod('client', 'nslookup web.practice.svc.cluster.local');
    expect(answer).toContain(`Address: ${serviceIp}`);
    // No upstream resolver: CoreDNS answers only for the cluster.
    await expect(inPod('client', 'nslookup example.com')).rejects.toThrow();
  });

  it('reaches the pod through its Service ClusterIP (kube-proxy chains in the node, none on the host)', async () => {
    expect(await reaches('client', `http://${serviceIp}/`)).toBe(true);
    expect(await reaches('client', 'http://web.practice.svc.cluster.local/')).toBe(true);
    const nodeRules = inNode(NAME, 'iptables-save', ['-t', 'nat']);
    expect(nodeRules.stdout).toContain(
      `-d ${serviceIp}/32 -p tcp -m comment --comment "practice/web cluster IP" -m tcp --dport 80 -j KUBE-SVC-`,
    );
    expect(run('iptables-save', [])).not.toContain('KUBE-');
  });

  it('lets pods reach the API server through the kubernetes Service (and DNS name)', async () => {
    // A plain HTTP request to the HTTPS port: the API server's own answer proves the path.
    const reply = await inPod(
      'client',
      'printf "GET /version HTTP/1.0\\r\\n\\r\\n" | timeout 5 nc kubernetes.default.svc.cluster.local 443',
    );
    expect(reply).toContain('Client sent an HTTP request to an HTTPS server');
    const coredns = JSON.parse(await cluster.kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'json']));
    const kubernetesIp = (await cluster.kubectl(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(coredns.items[0].status.containerStatuses[0].ready).toBe(true);
    expect(kubernetesIp).toMatch(/^10\.2\d\d\.128\.1$/);
  });

  it('answers kubectl logs, exec and port-forward', async () => {
    expect(await cluster.kubectl(['-n', NS, 'logs', 'client'])).toContain('client-started');
    expect(await cluster.kubectl(['-n', NS, 'logs', 'web'])).toContain('url:/index.html');
    expect((await cluster.kubectl(['-n', NS, 'exec', 'web', '--', 'cat', '/data/index.html'])).trim()).toBe('hello from web');

    const forward = spawn(cluster.kubectlPath, ['--kubeconfig', cluster.kubeconfig, '-n', NS, 'port-forward', 'pod/web', ':8080'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        forward.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        forward.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
      });
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toEqual({ status: 200, body: 'hello from web\n' });
    } finally {
      forward.kill();
    }
  });

  it('serves node and pod metrics (kubectl top, metrics.k8s.io)', async () => {
    const top = await until(
      'kubectl top pod web',
      90_000,
      async () => {
        const out = await cluster.kubectl(['-n', NS, 'top', 'pod', 'web', '--no-headers']);
        return /^web\s+\d+m\s+\d+Mi/.test(out) ? out : undefined;
      },
      2000,
    );
    expect(top).toMatch(/^web\s/);
    expect(await cluster.kubectl(['top', 'node', '--no-headers'])).toMatch(new RegExp(`^${NAME}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi`));
    const nodes = JSON.parse(await cluster.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']));
    expect(nodes.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual([NAME]);
    expect(Number.parseInt(nodes.items[0].usage.memory, 10)).toBeGreaterThan(0);
  }, 120_000);

  it('enforces NetworkPolicy: default-deny blocks pod-to-pod, an allow rule lets only the allowed pod through', async () => {
    expect(await reaches('stranger')).toBe(true);
    await cluster.kubectl(['apply', '-f', '-'], { input: DENY_ALL });
    await until('default-deny blocks client -> web', 30_000, async () => ((await reaches('client')) ? undefined : true));
    expect(await reaches('stranger')).toBe(false);

    await cluster.kubectl(['apply', '-f', '-'], { input: ALLOW_CLIENT });
    await until('the allow rule lets client -> web through', 30_000, async () => ((await reaches('client')) ? true : undefined));
    expect(await reaches('client', `http://${serviceIp}/`)).toBe(true);
    expect(await reaches('stranger')).toBe(false);

    await cluster.kubectl(['-n', NS, 'delete', 'networkpolicy', 'default-deny', 'web-from-client']);
    await until('without policies the stranger gets through again', 30_000, async () => ((await reaches('stranger')) ? true : undefined));
  }, 120_000);

  it('has no route out of the machine, from a pod or from the node (no packet is sent to check)', async () => {
    // The host's own way out (its default gateway), or a documentation address when it has none.
    const outside = /default via (\S+)/.exec(run('ip', ['route', 'show', 'default']))?.[1] ?? '192.0.2.1';
    await expect(inPod('client', `ip route get ${outside}`)).rejects.toThrow(/Network is unreachable/);
    const node = inNode(NAME, 'ip', ['route', 'get', outside]);
    expect(node.code).not.toBe(0);
    expect(node.stderr).toMatch(/Network is unreachable/);
    expect(inNode(NAME, 'ip', ['route', 'show', 'default']).stdout).toBe('');
  });

  it('answers the host but lets no pod open a connection to the host', async () => {
    // A server on the host's end of the node's veth: the host reaches it, a pod must not.
    const nodeIp = (
      await cluster.kubectl(['get', 'node', NAME, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])
    ).trim();
    const hostIp = nodeIp.replace(/\.2$/, '.1');
    const server = createServer((_req, res) => res.end('host\n'));
    await new Promise<void>((resolve) => server.listen(0, hostIp, resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      expect((await httpGet(`http://${hostIp}:${port}/`)).body).toBe('host\n');
      await expect(inPod('client', `timeout 3 wget -qO- http://${hostIp}:${port}/`)).rejects.toThrow();
    } finally {
      server.close();
    }
  });

  it('down removes every process, mount, namespace, link, rule, cgroup and containerd state', async () => {
    const pids = clusterPids();
    // The control plane, containerd, kubelet, kube-proxy, the enforcer, shims and pods.
    expect(pids.length).toBeGreaterThan(15);
    expect(clusterTraces(NAME, before).length).toBeGreaterThan(0);

    await cluster.down();

    expect(clusterTraces(NAME, before)).toEqual([]);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect((await clusterSh(['leftovers', '--name', NAME])).stdout).toBe('');
    expect(run('ip', ['netns', 'list'])).not.toContain(`labforge-${NAME}`);
  }, 120_000);
});

/** Pids in the node's network namespace or in the cluster's pod cgroups, seen from the host. */
function clusterPids(): number[] {
  const netns = statSync(`/run/netns/labforge-${NAME}`).ino;
  const inNetns = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return statSync(`/proc/${pid}/ns/net`).ino === netns;
      } catch {
        return false;
      }
    });
  const inCgroups = run('find', [`/sys/fs/cgroup/pids/labforge-${NAME}`, '-name', 'cgroup.procs', '-exec', 'cat', '{}', '+']);
  return [...new Set([...inNetns, ...inCgroups.split(/\s+/).filter(Boolean)].map(Number))];
}
