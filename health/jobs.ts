// The queue worker, proven through the API: log in, POST /jobs, then GET /jobs/:id until the
// worker has written its row (200 done). Shows API -> RabbitMQ -> worker -> PostgreSQL works.
import { request as httpRequest } from 'node:http';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { fieldOf } from '../constructs/model/json.js';

export interface JobsEndpoint {
  /** The API, directly or through the load balancer, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** An existing account (the API probe's account will do). */
  readonly email: string;
  readonly password: string;
}

function call(
  url: string,
  timeoutMs: number,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const text = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
    if (text !== undefined)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const req = httpRequest(url, { method: init.method ?? 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (raw += chunk));
      res.on('end', () => {
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          /* keep the text */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** Each attempt has `timeoutMs` (policy) for the whole round trip, polling every 50 ms. */
export function probeJobs(name: string, endpoint: JobsEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  return withRetry(name, { timeoutMs: 5000, ...policy }, async (timeoutMs, abandon) => {
    // A little before withRetry's own limit, so the failure says what was pending.
    const deadline = Date.now() + timeoutMs * 0.9;
    const login = await call(`${endpoint.baseUrl}/auth/login`, timeoutMs, {
      method: 'POST',
      body: { email: endpoint.email, password: endpoint.password },
    });
    const token = fieldOf(login.body, 'token');
    if (login.status !== 200 || typeof token !== 'string') throw new Error(`POST /auth/login answered ${login.status}`);
    const queued = await call(`${endpoint.baseUrl}/jobs`, timeoutMs, { method: 'POST', body: { type: 'welcome-email' }, token });
    const jobId = fieldOf(queued.body, 'jobId');
    if (queued.status !== 202 || typeof jobId !== 'string')
      throw new Error(`POST /jobs answered ${queued.status} ${JSON.stringify(queued.body).slice(0, 120)}`);
    for (let polls = 1; ; polls++) {
      const state = await call(`${endpoint.baseUrl}/jobs/${jobId}`, timeoutMs, { token });
      if (state.status === 200 && fieldOf(state.body, 'status') === 'done')
        return `job ${jobId} done by the worker after ${polls} polls via ${endpoint.baseUrl}`;
      if (state.status !== 202) throw new Error(`GET /jobs/${jobId} answered ${state.status}`);
      if (Date.now() > deadline || abandon.aborted)
        throw new Error(`job ${jobId} still pending after ${timeoutMs} ms: is the worker consuming 'jobs'?`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}
