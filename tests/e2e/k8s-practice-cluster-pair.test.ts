// Two practice clusters side by side (what a two-region lab needs): each node in its own network
// namespace with its own pod and Service ranges, its own kube-proxy chains and CNI bridge, the
// same object names in both without a clash, no route from one cluster's pods to the other's, and
// one cluster's `down` leaves the other running and serving.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupMayFail } from '../../constructs/model/quiet.js';
import { until } from './helpers.js';
import {
  assertPracticeClusterPrerequisites,
  clusterSh,
  clusterTraces,
  ensurePracticeCluster,
  hostSnapshot,
  inNode,
  practiceImage,
  type HostSnapshot,
  type PracticeCluster,
} from './k8s-practice.js';

const NAMES = ['lf-pair1', 'lf-pair2'] as const;

function web(image: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  securityContext: {runAsUser: 1000, runAsNonRoot: true}
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: ${image}
      imagePullPolicy: Never
      command: [sh, -c, 'mkdir -p /tmp/www && echo "cluster $CLUSTER" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
      env: [{name: CLUSTER, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
      readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {sizeLimit: 4Mi}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
}

function body(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

let before: HostSnapshot;
const clusters: PracticeCluster[] = [];
const podIps: string[] = [];
const serviceIps: string[] = [];

describe('two practice clusters side by side', () => {
  beforeAll(async () => {
    await assertPracticeClusterPrerequisites();
    for (const name of NAMES) await clusterSh(['down', '--name', name]);
    before = hostSnapshot();
    for (const name of NAMES) {
      const cluster = await ensurePracticeCluster(name);
      clusters.push(cluster);
      await cluster.kubectl(['apply', '-f', '-'], { input: web(practiceImage('busybox')) });
    }
    for (const cluster of clusters) {
      await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=90s'], { timeoutMs: 100_000 });
      podIps.push((await cluster.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}'])).trim());
      serviceIps.push((await cluster.kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim());
    }
    // kube-proxy programs a new Service within a second or two.
    for (const ip of serviceIps) await until(`Service ${ip} programmed`, 30_000, async () => (await body(`http://${ip}/`)) || undefined);
  }, 400_000);

  afterAll(async () => {
    for (const cluster of clusters) await cluster.down().catch(cleanupMayFail);
  }, 120_000);

  it('gives each cluster its own node, ranges and kube-proxy chains; the same names live in both', async () => {
    for (const [i, cluster] of clusters.entries()) {
      expect((await cluster.kubectl(['get', 'nodes', '-o', 'name'])).trim()).toBe(`node/${NAMES[i]}`);
      const nat = inNode(NAMES[i]!, 'iptables-save', ['-t', 'nat']).stdout;
      expect(nat).toContain(`-d ${serviceIps[i]}/32`);
      expect(nat).not.toContain(`-d ${serviceIps[1 - i]}/32`);
    }
    // Different ranges: the second cluster is not a copy of the first's addresses.
    expect(podIps[0]!.split('.').slice(0, 2)).not.toEqual(podIps[1]!.split('.').slice(0, 2));
    expect(serviceIps[0]).not.toBe(serviceIps[1]);
  });

  it("serves each cluster's pod to the host on its pod IP and Service ClusterIP", async () => {
    for (const [i] of clusters.entries()) {
      expect(await body(`http://${podIps[i]}:8080/`)).toBe(`cluster ${NAMES[i]}\n`);
      expect(await body(`http://${serviceIps[i]}/`)).toBe(`cluster ${NAMES[i]}\n`);
    }
  });

  it("has no route from one cluster's pods or node to the other's", async () => {
    await expect(clusters[1]!.kubectl(['exec', 'web', '--', 'ip', 'route', 'get', podIps[0]!])).rejects.toThrow(/Network is unreachable/);
    expect(inNode(NAMES[1], 'ip', ['route', 'get', podIps[0]!]).stderr).toMatch(/Network is unreachable/);
  });

  it('takes one cluster down while the other keeps running and serving, then the other', async () => {
    await clusters[0]!.down();
    expect(clusterTraces(NAMES[0], before)).toEqual([]);
    const node = JSON.parse(await clusters[1]!.kubectl(['get', 'node', NAMES[1], '-o', 'json']));
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    expect(await body(`http://${podIps[1]}:8080/`)).toBe(`cluster ${NAMES[1]}\n`);

    await clusters[1]!.down();
    expect(clusterTraces(NAMES[1], before)).toEqual([]);
  }, 60_000);
});
