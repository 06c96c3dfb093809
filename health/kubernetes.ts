// Kubernetes probes: real API reads (pods ready, endpoint slices ready) and an HTTP round trip to
// a Service through the API server's proxy, so a lab is checked without a port-forward.
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';

/**
 * The Kubernetes API reads the probes make; constructs/k8s/client.ts's KubeClient is one. Declared
 * here so that the probes depend on no engine.
 */
export interface KubeReader {
  list<T>(kind: 'Pod' | 'EndpointSlice', options: { namespace: string; labelSelector?: string }): Promise<T[]>;
  proxyGet<T>(
    namespace: string,
    service: string,
    port: string | number,
    path: string,
  ): Promise<{ readonly status: number; readonly body: T }>;
}

interface PodView {
  metadata: { name: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { ready: boolean; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

/** Why a pod is not ready, in a few words a learner can act on. */
export function podProblem(pod: PodView): string {
  const status = pod.status ?? {};
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (status.phase === 'Pending' && scheduled?.status !== 'True') {
    return `Pending, not scheduled${scheduled?.message ? `: ${scheduled.message}` : ' (no scheduler or no node took it)'}`;
  }
  const waiting = status.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting) return `${waiting.reason ?? 'waiting'}${waiting.message ? `: ${waiting.message.split('\n')[0]}` : ''}`;
  return status.phase ?? 'unknown';
}

const isReady = (pod: PodView) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

export interface WorkloadEndpoint {
  readonly client: KubeReader;
  readonly namespace: string;
  /** Deployment or StatefulSet name; its pods carry `selector`. */
  readonly name: string;
  readonly selector: string;
  readonly desired: number;
}

/** Enough pods of the workload are Ready. */
export function probeWorkload(e: WorkloadEndpoint, policy: RetryPolicy): Promise<ProbeResult> {
  return withRetry(`${e.name} pods ready`, policy, async () => {
    const pods = await e.client.list<PodView>('Pod', { namespace: e.namespace, labelSelector: e.selector });
    const ready = pods.filter(isReady).length;
    if (ready >= e.desired) return `${ready}/${e.desired} ready`;
    if (pods.length === 0) throw new Error(`0/${e.desired} ready: no pods (is the cluster's controller manager running?)`);
    const notReady = pods.find((p) => !isReady(p))!;
    throw new Error(`${ready}/${e.desired} ready; ${notReady.metadata.name}: ${podProblem(notReady)}`);
  });
}

export interface ServiceEndpoint {
  readonly client: KubeReader;
  readonly namespace: string;
  readonly service: string;
}

/** The Service has at least one ready endpoint (its selector finds working pods). */
export function probeEndpoints(e: ServiceEndpoint, policy: RetryPolicy): Promise<ProbeResult> {
  return withRetry(`${e.service} endpoints`, policy, async () => {
    const slices = await e.client.list<{ endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }>('EndpointSlice', {
      namespace: e.namespace,
      labelSelector: `kubernetes.io/service-name=${e.service}`,
    });
    const ready = slices.flatMap((s) => s.endpoints ?? []).filter((p) => p.conditions?.ready !== false);
    if (ready.length === 0) throw new Error(slices.length === 0 ? 'no endpoint slice yet' : 'no ready endpoint');
    return `${ready.length} ready endpoint${ready.length === 1 ? '' : 's'}`;
  });
}

/** The gist of a non-200 answer: the API server's own Status message, else the body's start. */
function answerText(body: unknown): string {
  const status = body as { kind?: string; message?: string } | undefined;
  if (status?.kind === 'Status' && status.message) return status.message;
  return (typeof body === 'string' ? body : JSON.stringify(body ?? '')).slice(0, 160);
}

/** GET <path> on the Service through the API server proxy answers 200 with `status: ok`. */
export function probeServiceHttp(
  e: ServiceEndpoint & { readonly port: string | number; readonly path: string },
  policy: RetryPolicy,
): Promise<ProbeResult> {
  return withRetry(`${e.service} GET ${e.path}`, policy, async () => {
    const res = await e.client.proxyGet<{ status?: string; instance?: string } | string | undefined>(
      e.namespace,
      e.service,
      e.port,
      e.path,
    );
    if (res.status !== 200) throw new Error(`answered ${res.status}: ${answerText(res.body)}`);
    if (typeof res.body !== 'object') throw new Error('the answer is not JSON');
    if (res.body?.status !== 'ok') throw new Error(`status ${JSON.stringify(res.body?.status)}, expected "ok"`);
    return `200 ok from ${res.body.instance ?? 'an instance'} through the API server proxy`;
  });
}
