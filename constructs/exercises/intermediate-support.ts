// What the intermediate checks share: calls to the learner's app, throwaway accounts made through
// it (and removed from the lab database afterwards), the lab Redis, and the workdir's .env file.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { guarded, request, withDb, withRedis as withLabRedis, type HttpReply } from './probe.js';
import { fail, type CheckContext, type CheckResult } from './types.js';
import { cleanupMayFail } from '../model/quiet.js';

export const APP_HINT =
  'start your app so it listens on the --app-url (default http://127.0.0.1:8080), on the lab database and Redis, then check again';
export const DB_HINT = 'the lab database did not answer: `labforge health <lab>`';

/** A missing piece a check found: becomes a fail with this detail and hint. */
export class Gap extends Error {
  override readonly name = 'Gap';
  constructor(
    detail: string,
    readonly hint: string,
  ) {
    super(detail);
  }
}

export function need(condition: unknown, detail: string, hint: string): asserts condition {
  if (!condition) throw new Gap(detail, hint);
}

/** Runs a check whose steps `need` things: a Gap is a fail with its hint, any other error a fail with `hint`. */
export function checked(run: () => Promise<CheckResult>, hint = APP_HINT): Promise<CheckResult> {
  return guarded(async () => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Gap) return fail(error.message, error.hint);
      throw error;
    }
  }, hint);
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Emails of the accounts checks make: `labforge-check-<hex>@example.com`. */
export const checkEmail = () => `labforge-check-${hex(4)}@example.com`;

export interface CallOptions {
  readonly json?: unknown;
  readonly body?: string;
  readonly token?: string;
  readonly headers?: Record<string, string>;
}

/** One request to the learner's app: a JSON body and a bearer token when given. */
export function call(ctx: CheckContext, method: string, path: string, options: CallOptions = {}): Promise<HttpReply> {
  const headers: Record<string, string> = {
    ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return request(ctx, method, path, { body: options.json !== undefined ? JSON.stringify(options.json) : options.body, headers });
}

export const show = (r: HttpReply) => `${r.status}${r.text ? ` ${r.text.slice(0, 80)}` : ''}`;

export interface Account {
  readonly email: string;
  readonly password: string;
  readonly token: string;
}

/**
 * Registers and logs in a new account through the app; its email goes into `made` first, so the
 * caller's `dropAccounts(made)` removes it whatever happens. `role`: set in users.role before the login.
 */
export async function signUp(ctx: CheckContext, made: string[], role?: string): Promise<Account> {
  const email = checkEmail();
  const password = `pw-${hex(8)}`;
  made.push(email);
  const reg = await call(ctx, 'POST', '/auth/register', { json: { email, password } });
  need(
    reg.status === 201 || reg.status === 200,
    `POST /auth/register answered ${show(reg)}`,
    'POST /auth/register {email, password} creates the account (201)',
  );
  if (role !== undefined) {
    const updated = await withDb(ctx, (db) => db.query('UPDATE users SET role = $1 WHERE email = $2', [role, email])).catch(
      (e: Error) =>
        new Gap(
          `cannot set users.role: ${e.message}`,
          "keep the starter's users table in the lab database: role text NOT NULL DEFAULT 'user'",
        ),
    );
    if (updated instanceof Gap) throw updated;
    need(
      updated.rowCount === 1,
      `no row in the lab database's users for ${email} after POST /auth/register`,
      'store accounts in the users table of the lab database (DATABASE_URL from `labforge secrets <lab>`)',
    );
  }
  const login = await call(ctx, 'POST', '/auth/login', { json: { email, password } });
  const token = (login.json as { token?: unknown } | undefined)?.token;
  need(
    login.status === 200 && typeof token === 'string',
    `POST /auth/login answered ${show(login)}`,
    'POST /auth/login {email, password} answers 200 {token: "<JWT>"}',
  );
  return { email, password, token };
}

/** Removes the check's accounts and everything hanging off them (tags links, notes), ignoring what does not exist. */
export async function dropAccounts(ctx: CheckContext, emails: readonly string[]): Promise<void> {
  if (emails.length === 0) return;
  await withDb(ctx, async (db) => {
    const notes = 'SELECT n.id FROM notes n JOIN users u ON u.id = n.user_id WHERE u.email = ANY($1)';
    for (const sql of [
      `DELETE FROM note_tags WHERE note_id IN (${notes})`,
      `DELETE FROM notes WHERE id IN (${notes})`,
      'DELETE FROM users WHERE email = ANY($1)',
    ]) {
      await db.query(sql, [emails]).catch(cleanupMayFail);
    }
  }).catch(cleanupMayFail);
}

/** The lab's Redis (probe.ts), with a hint when the lab has none. */
export function withRedis<T>(ctx: CheckContext, work: (redis: Redis) => Promise<T>): Promise<T> {
  if (!ctx.components.some((c) => c.kind === 'redis'))
    throw new Gap(`lab '${ctx.lab}' has no Redis`, 'run the check against an intermediate lab');
  return withLabRedis(ctx, work);
}

/** Deletes the keys of the lab Redis that contain `text` (what the app stored for a check's account). */
export async function dropKeys(ctx: CheckContext, text: string): Promise<void> {
  await withRedis(ctx, async (redis) => {
    const keys = await redis.keys(`*${text.replace(/[*?[\]\\]/g, '\\$&')}*`);
    if (keys.length > 0) await redis.del(...keys);
  }).catch(cleanupMayFail);
}

/** `<workdir>/.env` as KEY=VALUE pairs (comments, `export` and quotes allowed); undefined when absent. */
export function readEnvFile(workdir: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(join(workdir, '.env'), 'utf8');
  } catch {
    return undefined;
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) values[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}
