// A load balancer: plain HTTP through it must reach EVERY backend. Each request goes on its own
// connection (no keep-alive pinning it to one backend); the distinct X-Instance values are counted.
import { request as httpRequest } from 'node:http';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';

export interface BalancerEndpoint {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** X-Instance values that must all answer, e.g. ['api-1', 'api-2', 'api-3']. */
  readonly instances: readonly string[];
  /** @default '/health' */
  readonly path?: string;
  /** Most requests one attempt sends before it gives up. @default 6 per instance */
  readonly maxRequests?: number;
}

/**
 * One GET on a fresh connection: status and the X-Instance header. Settles exactly once, by a
 * hard deadline too: a socket timeout alone is an idle timer, and a reply cut after its headers
 * may end in 'close' without 'end' (that left a caller waiting forever).
 */
export function getInstance(url: string, timeoutMs: number): Promise<{ status: number; instance: string | undefined }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, value?: { status: number; instance: string | undefined }) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(value!);
    };
    const deadline = setTimeout(() => settle(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const req = httpRequest(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => {
        const header = res.headers['x-instance'];
        settle(undefined, { status: res.statusCode ?? 0, instance: Array.isArray(header) ? header[0] : header });
      });
      res.on('error', (error) => settle(error));
      res.on('close', () => settle(new Error('connection closed before the reply ended')));
    });
    req.on('timeout', () => settle(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => settle(error));
    req.end();
  });
}

export function probeBalancer(name: string, endpoint: BalancerEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  const path = endpoint.path ?? '/health';
  const max = endpoint.maxRequests ?? endpoint.instances.length * 6;
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const seen = new Map<string, number>();
    const failures: string[] = [];
    for (let n = 0; n < max && !abandon.aborted; n++) {
      const { status, instance } = await getInstance(`${endpoint.baseUrl}${path}`, timeoutMs);
      if (status !== 200) failures.push(`${status} from ${instance ?? 'no instance'}`);
      else if (instance) seen.set(instance, (seen.get(instance) ?? 0) + 1);
      if (endpoint.instances.every((i) => seen.has(i))) {
        const counts = [...seen].map(([i, c]) => `${i} ${c}`).join(', ');
        return `all ${endpoint.instances.length} backends answered through ${endpoint.baseUrl} in ${n + 1} requests (${counts})`;
      }
    }
    const missing = endpoint.instances.filter((i) => !seen.has(i));
    throw new Error(
      `${missing.join(', ')} never answered in ${max} requests through ${endpoint.baseUrl}${failures.length ? `; failures: ${failures.slice(0, 3).join(', ')}` : ''}`,
    );
  });
}
