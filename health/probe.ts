// What every probe returns, and the retry loop they share: each attempt bounded by a timeout,
// attempts bounded in number and total time, waits growing exponentially between attempts.

import type { ProbeResult } from '../constructs/model/runtime.js';

export type { ProbeResult };

export interface RetryPolicy {
  /** Most attempts. @default 5 */
  readonly attempts?: number;
  /** Limit of one attempt in ms. @default 2000 */
  readonly timeoutMs?: number;
  /** First wait between attempts; doubled after each failure. @default 20 */
  readonly initialDelayMs?: number;
  /** Longest wait between attempts. @default 1000 */
  readonly maxDelayMs?: number;
  /** Give up when the next attempt would start after this many ms. @default 15000 */
  readonly deadlineMs?: number;
  /** Stops retrying (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** One quick attempt: `health` of a lab that should be up. */
export const QUICK: RetryPolicy = { attempts: 2, timeoutMs: 2000, initialDelayMs: 50, deadlineMs: 5000 };
/** Waiting for a server that is starting: many short attempts. */
export const STARTING: RetryPolicy = { attempts: 200, timeoutMs: 2000, initialDelayMs: 10, maxDelayMs: 100, deadlineMs: 15000 };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

function message(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return message(error.errors[0]);
  const e = error as { code?: string; message?: string };
  const text = e?.message || e?.code || String(error);
  return text.split('\n')[0]!;
}

/**
 * Runs `attempt` until it resolves, with timeout per attempt and backoff; never throws. An
 * attempt that times out gets its `abandon` signal aborted so it can close its connection.
 */
export async function withRetry(
  name: string,
  policy: RetryPolicy,
  attempt: (timeoutMs: number, abandon: AbortSignal) => Promise<string>,
): Promise<ProbeResult> {
  const attempts = policy.attempts ?? 5;
  const timeoutMs = policy.timeoutMs ?? 2000;
  const deadline = performance.now() + (policy.deadlineMs ?? 15000);
  let delay = policy.initialDelayMs ?? 20;
  const started = performance.now();
  let last = 'not attempted';
  for (let n = 1; n <= attempts; n++) {
    try {
      let timer: NodeJS.Timeout | undefined;
      const abandon = new AbortController();
      const detail = await Promise.race([
        attempt(timeoutMs, abandon.signal),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(() => {
              abandon.abort();
              reject(new Error(`timed out after ${timeoutMs} ms`));
            }, timeoutMs)),
        ),
      ]).finally(() => clearTimeout(timer));
      return { name, ok: true, detail, ms: Math.round(performance.now() - started), attempts: n };
    } catch (error) {
      last = message(error);
      if (n === attempts || policy.signal?.aborted || performance.now() + delay > deadline) {
        return { name, ok: false, detail: last, ms: Math.round(performance.now() - started), attempts: n };
      }
      await sleep(delay, policy.signal);
      delay = Math.min(delay * 2, policy.maxDelayMs ?? 1000);
    }
  }
  return { name, ok: false, detail: last, ms: Math.round(performance.now() - started), attempts };
}
