// A small Kubernetes API client: server-side apply, get, list and delete by label, and GETs
// through the API server's service proxy. Only the kinds labforge writes (and the pods and
// endpoint slices it reads) are known; a static table keeps it free of discovery round trips.
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { ExternalError } from '../model/errors.js';
import type { KubeTarget } from './kubeconfig.js';
import type { KubeObject } from './synth.js';

export interface KubeKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Every kind labforge writes, in the order `down` verifies them; plus what it reads. */
export const KINDS: readonly KubeKind[] = [
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { apiVersion: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  { apiVersion: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
];

export function kindOf(kind: string): KubeKind {
  const found = KINDS.find((k) => k.kind === kind);
  if (!found) throw new Error(`labforge does not know the Kubernetes kind ${kind}`);
  return found;
}

/** `/api/v1/namespaces/ns/pods/name` or `/apis/apps/v1/...`; no namespace lists across all. */
export function resourcePath(kind: KubeKind, namespace?: string, name?: string): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const ns = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${kind.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export interface KubeResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** An API answer that is not 2xx (or 404 where the caller allows it). */
export class KubeApiError extends ExternalError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const FIELD_MANAGER = 'labforge';
const REQUEST_TIMEOUT_MS = 15_000;

export class KubeClient {
  private readonly agent?: Agent;

  constructor(readonly target: KubeTarget) {
    if (target.server.startsWith('https:')) {
      this.agent = new Agent({
        ca: target.ca,
        cert: target.cert,
        key: target.key,
        rejectUnauthorized: !target.insecure,
        servername: target.servername,
        keepAlive: true,
      });
    }
  }

  /** Ends the keep-alive connections so the process can exit. */
  close(): void {
    this.agent?.destroy();
  }

  request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse<T>> {
    const url = new URL(path, `${this.target.server}/`);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (payload !== undefined)
      Object.assign(headers, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(payload)) });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON (e.g. a proxied service's plain-text answer): keep the text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', (error) =>
        reject(
          new ExternalError(
            `cannot reach the Kubernetes API at ${this.target.server} (context ${this.target.context}): ${error.message}`,
            `is the cluster running? try \`kubectl --context ${this.target.context} cluster-info\``,
          ),
        ),
      );
      req.end(payload);
    });
  }

  /** Like request, but a non-2xx answer (other than the allowed ones) becomes a KubeApiError. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    allow: readonly number[] = [],
  ): Promise<KubeResponse<T>> {
    const res = await this.request<T>(method, path, body, contentType);
    if ((res.status >= 200 && res.status < 300) || allow.includes(res.status)) return res;
    const message = (res.body as { message?: string } | undefined)?.message ?? String(res.body).slice(0, 200);
    throw new KubeApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
  }

  /** Server-side apply: creates or updates the object, labforge owning the fields it sets. */
  async apply(object: KubeObject): Promise<KubeObject> {
    const path = `${resourcePath(kindOf(object.kind), object.metadata.namespace, object.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    return (await this.call<KubeObject>('PATCH', path, object, 'application/apply-patch+yaml')).body;
  }

  async get<T = KubeObject>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
    const res = await this.call<T>('GET', resourcePath(kindOf(kind), namespace, name), undefined, undefined, [404]);
    return res.status === 404 ? undefined : res.body;
  }

  /** Objects of a kind, in a namespace or (namespace undefined) across the cluster. */
  async list<T = KubeObject>(kind: string, options: { namespace?: string; labelSelector?: string } = {}): Promise<T[]> {
    const query = options.labelSelector ? `?labelSelector=${encodeURIComponent(options.labelSelector)}` : '';
    const res = await this.call<{ items: T[] }>('GET', `${resourcePath(kindOf(kind), options.namespace)}${query}`);
    return res.body.items;
  }

  /** Deletes one object; an absent one is fine. Background propagation: owned objects follow. */
  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    await this.call(
      'DELETE',
      resourcePath(kindOf(kind), namespace, name),
      { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      'application/json',
      [404],
    );
  }

  /** Deletes every object of a kind carrying the label selector, in one namespace. */
  async deleteCollection(kind: string, namespace: string, labelSelector: string): Promise<void> {
    const path = `${resourcePath(kindOf(kind), namespace)}?labelSelector=${encodeURIComponent(labelSelector)}&propagationPolicy=Background`;
    await this.call('DELETE', path, undefined, undefined, [404, 405]);
  }

  /** GET through the API server's proxy to a Service port (no port-forward, no exposed port). */
  proxyGet<T = unknown>(namespace: string, service: string, port: string | number, path: string): Promise<KubeResponse<T>> {
    return this.request<T>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/http:${service}:${port}/proxy${path}`);
  }
}
