// Bounded patience: retries with backoff for errors that pass (something still depends on the
// resource, throttling), and polling until a resource is gone, each with a limit and a message
// that says what was waited for.
import { errorMessage, isNotFound, isRetryable } from '../aws-sdk/clients.js';

export interface RetryPolicy {
  /** Tries of one delete call before the error goes into the receipt. @default 6 */
  readonly attempts: number;
  /** First pause; each next one doubles, up to 20 s. @default 1000 */
  readonly baseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 1000 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `call`; a not-found answer means it is already gone (success), a retryable one is tried again. */
export async function withRetries(policy: RetryPolicy, call: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isRetryable(error) || attempt >= policy.attempts) throw error;
      await sleep(Math.min(policy.baseMs * 2 ** (attempt - 1), 20_000));
    }
  }
}

/**
 * Polls `gone` until it answers true (a not-found error counts as true), at intervals from
 * 0.5 s growing to 10 s; fails after `timeoutMs` naming what it waited for.
 */
export async function waitUntilGone(what: string, timeoutMs: number, gone: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let interval = 500;
  let last: string;
  for (;;) {
    try {
      if (await gone()) return;
      last = '';
    } catch (error) {
      if (isNotFound(error)) return;
      last = ` (last answer: ${errorMessage(error)})`;
    }
    if (Date.now() > deadline) throw new Error(`${what} still there after ${Math.round(timeoutMs / 1000)} s${last}`);
    await sleep(interval);
    interval = Math.min(interval * 2, 10_000);
  }
}

export const MINUTE = 60_000;
