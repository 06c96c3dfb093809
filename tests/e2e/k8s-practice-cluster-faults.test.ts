// Interrupted and crashed practice clusters are still fully removable: an `up` killed half-way
// (SIGKILL: no trap runs), a node whose kubelet, containerd and API server crashed (a second `up`
// replaces it with a healthy one), and a node whose init was killed. Each time `down` leaves
// nothing, checked without cluster.sh.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupMayFail } from '../../constructs/model/quiet.js';
import { pidAlive, until } from './helpers.js';
import {
  CLUSTER_SH,
  assertPracticeClusterPrerequisites,
  clusterDir,
  clusterSh,
  clusterTraces,
  ensurePracticeCluster,
  hostSnapshot,
  type HostSnapshot,
} from './k8s-practice.js';

const NAME = 'lf-fault';
const DIR = clusterDir(NAME);
let before: HostSnapshot;

/** Live pids whose command line names the cluster's directory and `what` (kubelet, containerd, ...). */
function pidsOf(what: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return cmdline[0]!.split('/').pop() === what && cmdline.join(' ').includes(DIR) && pidAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('practice cluster faults: down removes what a killed up or a crash left', () => {
  beforeAll(async () => {
    await assertPracticeClusterPrerequisites();
    await clusterSh(['down', '--name', NAME]);
    before = hostSnapshot();
  }, 120_000);

  afterAll(async () => {
    await clusterSh(['down', '--name', NAME]).catch(cleanupMayFail);
  }, 120_000);

  it('removes an up killed half-way, once the kubelet had started', async () => {
    const up = spawn('bash', [CLUSTER_SH, 'up', '--name', NAME], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, LABFORGE_K8S_NO_BUILD: '1' },
    });
    await until('the kubelet started by up', 120_000, async () => (existsSync(join(DIR, 'logs/kubelet.pid')) ? true : undefined));
    process.kill(-up.pid!, 'SIGKILL');
    await until('up killed', 10_000, async () => (up.exitCode !== null || up.signalCode !== null ? true : undefined));
    expect(pidsOf('kubelet').length).toBe(1);
    expect(clusterTraces(NAME, before).length).toBeGreaterThan(3);

    await clusterSh(['down', '--name', NAME]);
    expect(clusterTraces(NAME, before)).toEqual([]);
  }, 180_000);

  it('removes a crashed node (kubelet, containerd, API server killed); up replaces it with a healthy one', async () => {
    const first = await ensurePracticeCluster(NAME);
    for (const what of ['kubelet', 'containerd', 'kube-apiserver']) {
      const pids = pidsOf(what);
      expect({ what, running: pids.length }).toEqual({ what, running: 1 });
      process.kill(pids[0]!, 'SIGKILL');
    }
    await expect(clusterSh(['status', '--name', NAME])).rejects.toThrow();

    const second = await ensurePracticeCluster(NAME);
    expect(second.upSeconds).toBeGreaterThan(0); // started again, not reused
    expect(second.kubeconfig).toBe(first.kubeconfig);
    expect((await second.kubectl(['get', 'node', NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim()).toBe(
      'True',
    );

    for (const what of ['kubelet', 'containerd', 'kube-apiserver']) process.kill(pidsOf(what)[0]!, 'SIGKILL');
    await second.down();
    expect(clusterTraces(NAME, before)).toEqual([]);
  }, 240_000);

  it('removes a node whose init was killed (every process of the node went with it)', async () => {
    await ensurePracticeCluster(NAME);
    const init = Number(/^INIT_PID=(\d+)$/m.exec(readFileSync(join(DIR, 'state'), 'utf8'))?.[1]);
    expect(pidAlive(init)).toBe(true);
    process.kill(init, 'SIGKILL');
    await until('the node processes gone', 20_000, async () => (pidsOf('kubelet').length === 0 ? true : undefined));
    // Its namespace, veth, cgroups and directory are still there for down to remove.
    expect(clusterTraces(NAME, before).length).toBeGreaterThan(0);

    await clusterSh(['down', '--name', NAME]);
    expect(clusterTraces(NAME, before)).toEqual([]);
  }, 180_000);
});
