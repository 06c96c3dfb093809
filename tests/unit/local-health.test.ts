// The shared retry loop of the probes, and the typed results probes return against dead endpoints.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeApi, probePostgres, probeRedis, withRetry } from '../../health/index.js';
import { scramVerifier } from '../../constructs/local/postgres.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('withRetry', () => {
  it('retries with exponential backoff and reports the attempts it took', async () => {
    const at: number[] = [];
    const started = performance.now();
    const result = await withRetry('flaky', { attempts: 5, initialDelayMs: 20 }, async () => {
      at.push(performance.now() - started);
      if (at.length < 4) throw new Error(`fail ${at.length}`);
      return 'fine';
    });
    expect(result).toMatchObject({ name: 'flaky', ok: true, detail: 'fine', attempts: 4 });
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
  });

  it('gives up after the last attempt with the last error, never throwing', async () => {
    const result = await withRetry('down', { attempts: 3, initialDelayMs: 1 }, async () => {
      throw new Error('connection refused');
    });
    expect(result).toMatchObject({ ok: false, detail: 'connection refused', attempts: 3 });
  });

  it('bounds each attempt by its timeout and tells the attempt to let go', async () => {
    let abandoned = false;
    const result = await withRetry('hung', { attempts: 1, timeoutMs: 50 }, (_t, abandon) => {
      abandon.addEventListener('abort', () => (abandoned = true));
      return new Promise<string>(() => {
        /* never settles: the probe's timeout must end it */
      });
    });
    expect(result).toMatchObject({ ok: false, detail: 'timed out after 50 ms', attempts: 1 });
    expect(abandoned).toBe(true);
  });
});

describe('probes against an endpoint where nothing listens', () => {
  const policy = { attempts: 2, initialDelayMs: 5, timeoutMs: 1000 };
  it('each returns a typed failure naming the check', async () => {
    const port = await closedPort();
    const results = await Promise.all([
      probePostgres('db (postgres)', { host: '127.0.0.1', port, database: 'lab', user: 'learner', password: 'x' }, policy),
      probeRedis('cache (redis)', { host: '127.0.0.1', port, password: 'x' }, policy),
      probeApi('api (api)', { baseUrl: `http://127.0.0.1:${port}`, probeEmail: 'a@b.c', probePassword: 'xxxxxxxx' }, policy),
    ]);
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.attempts).toBe(2);
      expect(r.detail).toMatch(/ECONNREFUSED|connect|refused|closed/i);
    }
    expect(results.map((r) => r.name)).toEqual(['db (postgres)', 'cache (redis)', 'api (api)']);
  });
});

describe('scramVerifier', () => {
  it('has the SCRAM-SHA-256 verifier shape PostgreSQL stores, with a fresh salt each time', () => {
    const a = scramVerifier('secret');
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(scramVerifier('secret')).not.toBe(a);
  });
});
