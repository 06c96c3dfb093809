// The starter API: GET /health (which checks its own dependencies), then a register + login
// round trip with a dedicated probe account, so the whole request path is proven to work.
import { request as httpRequest } from 'node:http';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';

export interface ApiEndpoint {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** Account the probe registers (once) and logs in with. */
  readonly probeEmail: string;
  readonly probePassword: string;
}

/**
 * One HTTP request on its own connection (no keep-alive pool: a CLI that probes must be able to
 * exit right away, and a probe should not reuse a connection a broken server left open).
 */
export function request(
  url: string,
  timeoutMs: number,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close', ...init.headers };
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(init.body));
    }
    const req = httpRequest(url, { method: init.method ?? 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON: keep the text */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

export async function probeApi(name: string, endpoint: ApiEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  return withRetry(name, policy, async (timeoutMs) => {
    const health = await request(`${endpoint.baseUrl}/health`, timeoutMs);
    const status = (health.body as { status?: string; checks?: Record<string, string> }) ?? {};
    if (health.status !== 200 || status.status !== 'ok') {
      throw new Error(`GET /health answered ${health.status} ${JSON.stringify(health.body).slice(0, 200)}`);
    }
    const credentials = JSON.stringify({ email: endpoint.probeEmail, password: endpoint.probePassword });
    // 201 the first time; afterwards the account exists (409 or similar): login decides.
    const registered = await request(`${endpoint.baseUrl}/auth/register`, timeoutMs, { method: 'POST', body: credentials });
    if (registered.status >= 500) throw new Error(`POST /auth/register answered ${registered.status}`);
    const login = await request(`${endpoint.baseUrl}/auth/login`, timeoutMs, { method: 'POST', body: credentials });
    const token = (login.body as { token?: string })?.token;
    if (login.status !== 200 || typeof token !== 'string') {
      throw new Error(`POST /auth/login answered ${login.status} ${JSON.stringify(login.body).slice(0, 200)}`);
    }
    const checks = Object.entries(status.checks ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return `GET /health ok (${checks || 'no checks listed'}), register + login ok on ${endpoint.baseUrl}`;
  });
}
