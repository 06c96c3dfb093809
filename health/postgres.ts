// PostgreSQL: log in over TCP with the lab's credentials and run `SELECT 1`.
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { cleanupMayFail, reportedElsewhere } from '../constructs/model/quiet.js';

export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export async function probePostgres(name: string, endpoint: PostgresEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  // Loaded here, not at the top: `labforge --help` should not pay for the pg driver.
  const { default: pg } = await import('pg');
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const client = new pg.Client({
      ...endpoint,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'labforge-health',
    });
    // A server that goes away mid-query emits 'error' on the client: keep it from crashing us.
    client.on('error', reportedElsewhere);
    abandon.addEventListener('abort', () => void client.end().catch(cleanupMayFail), { once: true });
    try {
      await client.connect();
      const result = await client.query<{ one: number }>('SELECT 1 AS one');
      if (result.rows[0]?.one !== 1) throw new Error(`SELECT 1 returned ${JSON.stringify(result.rows)}`);
      return `SELECT 1 as ${endpoint.user} on ${endpoint.host}:${endpoint.port}/${endpoint.database}`;
    } finally {
      await client.end().catch(cleanupMayFail);
    }
  });
}
