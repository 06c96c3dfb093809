// RabbitMQ's management API, as the learner (HTTP basic auth): GET /api/overview must answer 200,
// which proves the plugin runs where recorded and that the `management` tag lets the learner in.
// With only that tag (not `monitoring`) the overview leaves out `node`, and GET /api/vhosts/<vhost>
// is for administrators, so the node is read from the list GET /api/vhosts (the vhosts the learner
// may use): the learner's vhost must be there, its cluster_state showing this lab's node running it.
import { request } from './http.js';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';

export interface ManagementEndpoint {
  /** e.g. http://127.0.0.1:15672 */
  readonly baseUrl: string;
  readonly user: string;
  readonly password: string;
  /** The learner's vhost. @default 'lab' */
  readonly vhost?: string;
  /** The node that must run the vhost (`lf-<lab>@localhost`): another node on that port fails the check. */
  readonly node: string;
}

export async function probeRabbitManagement(name: string, endpoint: ManagementEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  const headers = { authorization: `Basic ${Buffer.from(`${endpoint.user}:${endpoint.password}`).toString('base64')}` };
  const vhost = endpoint.vhost ?? 'lab';
  const snippet = (body: unknown) => JSON.stringify(body).slice(0, 160);
  return withRetry(name, policy, async (timeoutMs) => {
    const overview = await request(`${endpoint.baseUrl}/api/overview`, timeoutMs, { headers });
    if (overview.status !== 200)
      throw new Error(`GET /api/overview as ${endpoint.user} answered ${overview.status} ${snippet(overview.body)}`);
    const version = (overview.body as { rabbitmq_version?: string })?.rabbitmq_version ?? '?';
    const res = await request(`${endpoint.baseUrl}/api/vhosts`, timeoutMs, { headers });
    const mine = Array.isArray(res.body)
      ? (res.body as { name?: string; cluster_state?: Record<string, string> }[]).find((v) => v.name === vhost)
      : undefined;
    const state = mine?.cluster_state?.[endpoint.node];
    if (res.status !== 200 || state !== 'running') {
      throw new Error(
        `GET /api/vhosts answered ${res.status}, vhost ${vhost} on node ${endpoint.node} ${state ?? 'absent'}: ${snippet(res.body)}`,
      );
    }
    return `GET /api/overview as ${endpoint.user} on ${endpoint.baseUrl}: 200 (RabbitMQ ${version}); vhost ${vhost} running on node ${endpoint.node}`;
  });
}
