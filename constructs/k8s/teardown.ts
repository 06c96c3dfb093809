// `down` of a k8s-target lab: delete its objects by label, then its namespace (which takes
// whatever the learner added there), wait until the namespace is gone, and prove it: no object
// carrying the lab's label is left anywhere in the cluster, and the lab directory is removed.
import { existsSync, rmSync } from 'node:fs';
import { KINDS } from './client.js';
import { clientFor } from './inspect.js';
import { k8sLabDir, readK8sState } from './lab.js';
import { LABEL_LAB } from './labels.js';

export interface K8sTeardownReceipt {
  readonly lab: string;
  readonly target: 'k8s';
  readonly ok: boolean;
  readonly seconds: number;
  readonly context: string;
  readonly namespace: { readonly name: string; readonly removed: boolean };
  /** Per kind, the objects with the lab's label still there (all empty when ok). */
  readonly kinds: readonly { readonly kind: string; readonly left: readonly string[] }[];
  readonly directory: { readonly path: string; readonly removed: boolean };
  readonly leftovers: readonly string[];
}

const NAMESPACE_GONE_TIMEOUT_MS = 120_000;

export async function downK8sLab(home: string, name: string): Promise<K8sTeardownReceipt> {
  const started = performance.now();
  const state = readK8sState(home, name);
  const client = await clientFor(state);
  const selector = `${LABEL_LAB}=${name}`;
  try {
    // Objects first (their controllers stop making pods), then the namespace and the rest with it.
    for (const kind of KINDS) {
      if (kind.namespaced && kind.kind !== 'Pod' && kind.kind !== 'EndpointSlice')
        await client.deleteCollection(kind.kind, state.namespace, selector);
    }
    await client.delete('Namespace', state.namespace);
    const deadline = performance.now() + NAMESPACE_GONE_TIMEOUT_MS;
    while ((await client.get('Namespace', state.namespace)) !== undefined && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const namespaceGone = (await client.get('Namespace', state.namespace)) === undefined;
    const kinds = [];
    for (const kind of KINDS) {
      const left = await client.list(kind.kind, { labelSelector: selector });
      kinds.push({
        kind: kind.kind,
        left: left.map((o) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name)),
      });
    }
    const layout = k8sLabDir(home, name);
    const clean = namespaceGone && kinds.every((k) => k.left.length === 0);
    // The state stays while anything is left, so a second `down` can finish the job.
    if (clean) rmSync(layout.dir, { recursive: true, force: true });
    const leftovers = [
      ...(namespaceGone
        ? []
        : [
            `namespace ${state.namespace} is still terminating after ${NAMESPACE_GONE_TIMEOUT_MS / 1000}s (a finalizer waits: kubectl get namespace ${state.namespace} -o yaml)`,
          ]),
      ...kinds.filter((k) => k.left.length > 0).map((k) => `${k.kind}: ${k.left.join(', ')}`),
    ];
    return {
      lab: name,
      target: 'k8s',
      ok: clean,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      context: state.context,
      namespace: { name: state.namespace, removed: namespaceGone },
      kinds,
      directory: { path: layout.dir, removed: !existsSync(layout.dir) },
      leftovers,
    };
  } finally {
    client.close();
  }
}
