// Checks of the intermediate middleware and external-service exercises: request ids and the
// request log in the workdir, problem+json errors, security headers, a login rate limit, a
// multipart upload into <workdir>/uploads, a payment client against a provider stub the check
// plays itself at the workdir's PAYMENT_URL, and an HMAC-signed webhook.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pass, type Check, type CheckContext } from './types.js';
import { call, checked, checkEmail, dropAccounts, dropKeys, Gap, hex, need, readEnvFile, show, signUp } from './intermediate-support.js';

const unknownPath = () => `/labforge-check-${hex(3)}`;

/** The JSON line of `file` that holds `text`, waiting up to 2 s for the app to write it (it logs after answering). */
async function logLine(file: string, text: string): Promise<string | undefined> {
  for (let waited = 0; waited <= 2000; waited += 100) {
    let content = '';
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    const line = content.split('\n').find((l) => l.includes(text));
    if (line !== undefined) return line;
    await sleep(100);
  }
  return undefined;
}

const middleware: Check[] = [
  {
    id: 'intermediate-middleware/request-log',
    title: 'X-Request-Id echoed (or made up) and one JSON line per request in logs/requests.log of the workdir',
    run: (ctx) =>
      checked(async () => {
        const id = `labforge-check-${hex(6)}`;
        const path = unknownPath();
        const echoed = await call(ctx, 'GET', path, { headers: { 'x-request-id': id } });
        need(
          echoed.headers.get('x-request-id') === id,
          `sent X-Request-Id: ${id}, got back ${echoed.headers.get('x-request-id') ?? 'none'}`,
          'echo the X-Request-Id header of the request in the response',
        );
        const fresh = (await call(ctx, 'GET', path)).headers.get('x-request-id');
        need(
          fresh && fresh !== id,
          `without X-Request-Id the reply carries ${fresh ?? 'none'}`,
          'make up an id (randomUUID) when the request has none, and send it back',
        );
        const file = join(ctx.workdir, 'logs', 'requests.log');
        const line = await logLine(file, id);
        need(
          line !== undefined,
          `no line of ${file} mentions request ${id}`,
          'append one JSON line per request {requestId, method, path, status, ms} to logs/requests.log of your working directory (--workdir)',
        );
        let entry: Record<string, unknown> | undefined;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          // reported below
        }
        need(
          entry?.requestId === id && entry.status === echoed.status,
          `the log line is not {requestId: "${id}", status: ${echoed.status}, ...}: ${line.slice(0, 120)}`,
          'log JSON: {"requestId": ..., "method": ..., "path": ..., "status": <number>, "ms": ...}',
        );
        return pass(`X-Request-Id echoed, made up when absent; ${file}: ${line.slice(0, 100)}`);
      }),
  },
  {
    id: 'intermediate-middleware/problem-json',
    title: 'errors are application/problem+json {type, title, status} with the right status: 400, 401, 404',
    run: (ctx) =>
      checked(async () => {
        const cases = [
          {
            what: 'POST /auth/register with broken JSON',
            status: 400,
            reply: await call(ctx, 'POST', '/auth/register', { body: '{"email":', headers: { 'content-type': 'application/json' } }),
          },
          { what: 'GET /me without a token', status: 401, reply: await call(ctx, 'GET', '/me') },
          { what: 'GET of an unknown path', status: 404, reply: await call(ctx, 'GET', unknownPath()) },
        ];
        for (const { what, status, reply } of cases) {
          need(reply.status === status, `${what} answered ${show(reply)}`, `answer ${status} there`);
          const type = reply.headers.get('content-type') ?? '';
          const body = reply.json as Record<string, unknown> | undefined;
          need(
            type.includes('application/problem+json'),
            `${what}: Content-Type ${type || 'missing'}`,
            'send errors as Content-Type: application/problem+json (RFC 9457)',
          );
          need(
            body && typeof body.title === 'string' && typeof body.type === 'string' && body.status === status,
            `${what}: the body is not {type, title, status: ${status}}: ${reply.text.slice(0, 100)}`,
            'one error middleware turns every thrown error into {type, title, status, detail}',
          );
          need(!/\bat .+:\d+:\d+/.test(reply.text), `${what}: the body shows a stack trace`, 'log the stack, never send it');
        }
        return pass('400, 401 and 404 are application/problem+json {type, title, status}');
      }),
  },
  {
    id: 'intermediate-middleware/security-headers',
    title: 'security headers on every reply: nosniff, frame protection, Referrer-Policy, no X-Powered-By',
    run: (ctx) =>
      checked(async () => {
        for (const [what, reply] of [
          ['GET /me', await call(ctx, 'GET', '/me')],
          ['GET of an unknown path', await call(ctx, 'GET', unknownPath())],
        ] as const) {
          const h = reply.headers;
          const framing =
            /^(deny|sameorigin)$/i.test(h.get('x-frame-options') ?? '') || /frame-ancestors/i.test(h.get('content-security-policy') ?? '');
          const gaps = [
            h.get('x-content-type-options')?.toLowerCase() === 'nosniff' ? '' : 'X-Content-Type-Options: nosniff',
            framing ? '' : 'X-Frame-Options: DENY (or a CSP frame-ancestors)',
            h.get('referrer-policy') ? '' : 'Referrer-Policy',
          ].filter(Boolean);
          need(
            gaps.length === 0,
            `${what} (${reply.status}) lacks ${gaps.join(', ')}`,
            'set the headers in a middleware that runs before routing, so errors get them too',
          );
          need(
            !h.get('x-powered-by'),
            `${what} sends X-Powered-By: ${h.get('x-powered-by')}`,
            'do not advertise the server stack (X-Powered-By)',
          );
        }
        return pass('nosniff, frame protection and Referrer-Policy on a 401 and a 404; no X-Powered-By');
      }),
  },
  {
    id: 'intermediate-middleware/rate-limit',
    title: 'POST /auth/login: 429 with Retry-After after repeated wrong passwords for one email (10 a minute), other emails unaffected',
    run: (ctx) =>
      checked(async () => {
        const [email, other] = [checkEmail(), checkEmail()];
        try {
          const statuses: number[] = [];
          let last = await call(ctx, 'POST', '/auth/login', { json: { email, password: 'wrong-password' } });
          statuses.push(last.status);
          // 21 attempts: even a fixed one-minute window that turns over mid-check holds 11 of them in one window.
          while (last.status !== 429 && statuses.length < 21) {
            last = await call(ctx, 'POST', '/auth/login', { json: { email, password: 'wrong-password' } });
            statuses.push(last.status);
          }
          need(
            statuses[0] === 401,
            `the first wrong password answered ${statuses[0]}`,
            'answer 401 to a wrong password until the limit is reached',
          );
          need(
            last.status === 429,
            `21 wrong passwords for one email answered ${[...new Set(statuses)].join(', ')}, never 429`,
            'count failed logins per email (Redis INCR + EXPIRE 60): after 10 in a minute answer 429 Too Many Requests',
          );
          const retry = last.headers.get('retry-after') ?? '';
          need(
            /^\d+$/.test(retry) || !Number.isNaN(Date.parse(retry)),
            `the 429 has Retry-After: ${retry || 'nothing'}`,
            'say when to try again: Retry-After: <seconds>',
          );
          const elsewhere = await call(ctx, 'POST', '/auth/login', { json: { email: other, password: 'wrong-password' } });
          need(
            elsewhere.status === 401,
            `another email then answered ${elsewhere.status}`,
            'limit per email (every check comes from 127.0.0.1): one attacked account must not lock out the others',
          );
          return pass(`attempt ${statuses.length}: 429, Retry-After: ${retry}; another email still gets 401`);
        } finally {
          await dropKeys(ctx, email);
          await dropKeys(ctx, other);
        }
      }),
  },
  {
    id: 'intermediate-middleware/upload',
    title: 'POST /uploads (multipart, field file): 401 without a token, 201 and the bytes in <workdir>/uploads under a name of its own',
    run: (ctx) =>
      checked(async () => {
        const made: string[] = [];
        const dir = join(ctx.workdir, 'uploads');
        const [content, anonContent] = [`labforge check upload ${hex(16)}\n`, `labforge check anonymous upload ${hex(16)}\n`];
        const clientName = `labforge-check-${hex(4)}.txt`;
        const upload = (text: string, token?: string) => {
          const boundary = `labforge${hex(8)}`;
          const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${clientName}"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${boundary}--\r\n`;
          return call(ctx, 'POST', '/uploads', { body, token, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
        };
        try {
          const anon = await upload(anonContent);
          need(
            anon.status === 401,
            `POST /uploads without a token answered ${show(anon)}`,
            'uploads need a Bearer token: 401 without one, before reading the body',
          );
          const a = await signUp(ctx, made);
          const r = await upload(content, a.token);
          need(
            r.status === 201,
            `POST /uploads answered ${show(r)}`,
            'accept multipart/form-data with the file in field "file", answer 201',
          );
          const stored = filesHolding(dir, content);
          need(
            stored.length > 0,
            `no file under ${dir} holds the uploaded bytes`,
            'stream the file part (only its bytes) into the uploads/ directory of your working directory (--workdir)',
          );
          need(
            stored.every((f) => basename(f) !== clientName),
            `the file is stored under the client's name ${clientName}`,
            "name it yourself (randomUUID): the client's file name is untrusted input",
          );
          need(
            filesHolding(dir, anonContent).length === 0,
            'the upload without a token was stored too',
            'authenticate before writing anything',
          );
          return pass(`201; ${stored.map((f) => f.slice(ctx.workdir.length + 1)).join(', ')} holds the bytes`);
        } finally {
          for (const f of [...filesHolding(dir, content), ...filesHolding(dir, anonContent)]) rmSync(f, { force: true });
          await dropAccounts(ctx, made);
        }
      }),
  },
];

/** Regular files under `dir` (at most 2000) whose bytes are exactly `content`. */
function filesHolding(dir: string, content: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }).map(String).slice(0, 2000);
  } catch {
    return [];
  }
  const size = Buffer.byteLength(content);
  return entries
    .map((e) => join(dir, e))
    .filter((f) => {
      try {
        const s = statSync(f);
        return s.isFile() && s.size === size && readFileSync(f, 'utf8') === content;
      } catch {
        return false;
      }
    });
}

interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly key: string;
  readonly body: Record<string, unknown> | undefined;
  readonly at: number;
  repliedAt?: number;
}

/**
 * The payment provider, played by the check on `port`: POST /charges; the first attempt is never
 * answered, the second gets 503, every later one 201 with the same charge (idempotent replays).
 */
async function startProvider(port: number, chargeId: string) {
  const attempts: Attempt[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      const attempt: Attempt = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0]!,
        key: String(req.headers['idempotency-key'] ?? ''),
        body,
        at: performance.now(),
      };
      attempts.push(attempt);
      if (attempt.method !== 'POST' || attempt.path !== '/charges') {
        res.writeHead(404).end();
        return;
      }
      if (attempts.length === 1) return void held.push(res);
      attempt.repliedAt = performance.now();
      if (attempts.length === 2) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"provider busy"}');
        return;
      }
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: chargeId, status: 'succeeded', amountCents: body?.amountCents }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Gap(
          e.code === 'EADDRINUSE'
            ? `something else listens on 127.0.0.1:${port} (PAYMENT_URL)`
            : `cannot play the provider on 127.0.0.1:${port}: ${e.message}`,
          'the check plays the payment provider at PAYMENT_URL: leave that port free (stop your own stub) and check again',
        ),
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections()));
  return { attempts, close };
}

/** POST /payments to the app, with room for its timeouts and retries (12 s rather than 3). */
async function pay(ctx: CheckContext, token: string, amountCents: number) {
  try {
    const response = await fetch(new URL('/payments', ctx.appUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ amountCents, currency: 'EUR' }),
      signal: AbortSignal.timeout(12_000),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return { status: 0, text: 'no answer within 12 s' };
    throw error;
  }
}

const ENV_HINT =
  'write PAYMENT_URL=http://127.0.0.1:<free port> and PAYMENT_WEBHOOK_SECRET=<16+ characters> into .env of your working directory (--workdir), and start your app with them';

const external: Check[] = [
  {
    id: 'intermediate-external/payment-client',
    title:
      'POST /payments calls the provider at PAYMENT_URL with one Idempotency-Key, a timeout, retries with backoff, and returns its charge',
    run: (ctx) =>
      checked(async () => {
        const env = readEnvFile(ctx.workdir);
        need(env?.PAYMENT_URL, `${join(ctx.workdir, '.env')} ${env ? 'has no PAYMENT_URL' : 'does not exist'}`, ENV_HINT);
        const url = URL.canParse(env.PAYMENT_URL) ? new URL(env.PAYMENT_URL) : undefined;
        need(
          url?.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname) && url.port,
          `PAYMENT_URL ${env.PAYMENT_URL} is not http://127.0.0.1:<port>`,
          'the provider stub runs on this machine: PAYMENT_URL=http://127.0.0.1:<port>',
        );
        const chargeId = `ch_${hex(8)}`;
        const amount = 1000 + Math.floor(Math.random() * 9000);
        const provider = await startProvider(Number(url.port), chargeId);
        const made: string[] = [];
        try {
          const a = await signUp(ctx, made);
          const r = await pay(ctx, a.token, amount);
          const seen = provider.attempts;
          need(
            seen.length > 0,
            `POST /payments answered ${r.status} without calling ${url.origin}/charges`,
            'call POST $PAYMENT_URL/charges {amountCents, currency} from POST /payments',
          );
          need(
            seen.every((s) => s.method === 'POST' && s.path === '/charges'),
            `the provider got ${seen.map((s) => `${s.method} ${s.path}`).join(', ')}`,
            'the provider takes POST /charges',
          );
          need(
            seen[0]!.key !== '' && seen.every((s) => s.key === seen[0]!.key),
            `Idempotency-Key per attempt: ${seen.map((s) => s.key || '(none)').join(', ')}`,
            'send one Idempotency-Key (randomUUID per payment) and reuse it on every retry, so a retry never charges twice',
          );
          need(
            seen.length >= 3,
            `${seen.length} attempt(s): the provider held the first without answering${seen.length === 2 ? ' and answered the second 503' : ''}, and ${r.status === 0 ? 'the app was still waiting on it 12 s later' : `the app gave up (POST /payments: ${r.status} ${r.text.slice(0, 60)})`}`,
            'give each attempt a timeout (AbortSignal.timeout, at most 2 s) and retry timeouts and 5xx, 3 attempts or more',
          );
          const backoff = seen[2]!.at - seen[1]!.repliedAt!;
          need(
            backoff >= 90,
            `the retry after the 503 came ${backoff.toFixed(0)} ms later`,
            'back off before a retry: at least 100 ms, doubling each time',
          );
          need(
            seen[2]!.body?.amountCents === amount,
            `the provider got ${JSON.stringify(seen[2]!.body)}, not amountCents ${amount}`,
            'send {amountCents, currency} as JSON',
          );
          need(
            r.status === 201 && r.text.includes(chargeId),
            `POST /payments answered ${r.status} ${r.text.slice(0, 80)} without the charge ${chargeId}`,
            "answer 201 with the provider's charge id",
          );
          return pass(
            `${seen.length} attempts, one Idempotency-Key, ${backoff.toFixed(0)} ms backoff after the 503; POST /payments: 201 ${chargeId}`,
          );
        } finally {
          await provider.close();
          await dropAccounts(ctx, made);
        }
      }),
  },
  {
    id: 'intermediate-external/webhook',
    title:
      'POST /webhooks/payment: 2xx with a valid X-Signature (HMAC-SHA256 of the body), 401 when it is missing, wrong or the body changed',
    run: (ctx) =>
      checked(async () => {
        const env = readEnvFile(ctx.workdir);
        const secret = env?.PAYMENT_WEBHOOK_SECRET;
        need(
          secret && secret.length >= 16,
          `${join(ctx.workdir, '.env')} ${env ? 'has no PAYMENT_WEBHOOK_SECRET of 16+ characters' : 'does not exist'}`,
          ENV_HINT,
        );
        const body = JSON.stringify({
          id: `evt_${hex(8)}`,
          type: 'charge.succeeded',
          data: { chargeId: `ch_${hex(8)}`, amountCents: 1234 },
        });
        const sign = (key: string, text: string) => `sha256=${createHmac('sha256', key).update(text).digest('hex')}`;
        const deliver = (text: string, signature?: string) =>
          call(ctx, 'POST', '/webhooks/payment', {
            body: text,
            headers: { 'content-type': 'application/json', ...(signature ? { 'x-signature': signature } : {}) },
          });
        const ok = await deliver(body, sign(secret, body));
        need(
          ok.status >= 200 && ok.status < 300,
          `a correctly signed event answered ${show(ok)}`,
          'HMAC-SHA256 the raw body with PAYMENT_WEBHOOK_SECRET, compare with X-Signature (sha256=<hex>) using timingSafeEqual, answer 2xx',
        );
        const refused = [
          ['without X-Signature', await deliver(body)],
          ['signed with another secret', await deliver(body, sign(`${secret}x`, body))],
          ['with the amount changed after signing', await deliver(body.replace('1234', '9999'), sign(secret, body))],
        ] as const;
        for (const [what, r] of refused)
          need(
            r.status === 401,
            `an event ${what} answered ${show(r)}`,
            'answer 401 before reading the body as JSON when the signature does not match',
          );
        const again = await deliver(body, sign(secret, body));
        need(
          again.status >= 200 && again.status < 300,
          `the same event delivered again answered ${show(again)}`,
          'providers deliver an event more than once: acknowledge a duplicate (2xx) without acting twice',
        );
        return pass(`signed: ${ok.status}, again: ${again.status}; missing, wrong or stale signature: 401`);
      }),
  },
];

export const MIDDLEWARE_CHECKS: readonly Check[] = middleware;
export const EXTERNAL_CHECKS: readonly Check[] = external;
