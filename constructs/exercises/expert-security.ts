// Checks of expert-security: the learner's gateway (`--app-url`, https) in front of the lab API
// (TLS only, with the certificate from the workdir; JWTs of the lab API verified; a rate limit
// per client), and a column encrypted at the application layer, with its key rotated.
//
// Not checked: TLS on the lab's own PostgreSQL and Kafka. Locally they listen on loopback in
// plaintext, and the lab's APIs, replicas and health checks connect to them that way; requiring
// TLS there would break the lab. The AWS code is where that step applies.
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { guarded, withDb } from './probe.js';
import { fail, pass, type Check, type CheckContext } from './types.js';
import { EXERCISE_KEY } from './expert-fault.js';
import { inWorkdir, listOf, readWorkdir, shardOfKey, tableExists } from './expert-tools.js';
import { reportedElsewhere } from '../model/quiet.js';

const GATEWAY_HINT =
  'start your gateway on https (a certificate for 127.0.0.1 in tls/gateway.crt of --workdir) and pass --app-url https://127.0.0.1:<port>';
const CERT = 'tls/gateway.crt';
/** A path the lab API serves without a token: through the gateway it must need one. */
const PUBLIC_PATH = `/shards/${EXERCISE_KEY}`;

interface Gateway {
  readonly host: string;
  readonly port: number;
  readonly ca: string;
}

function gatewayOf(ctx: CheckContext): Gateway | { problem: string } {
  const url = new URL(ctx.appUrl);
  if (url.protocol !== 'https:') return { problem: `--app-url is ${ctx.appUrl}: the gateway must serve https` };
  const ca = readWorkdir(ctx, CERT);
  if (ca === undefined) return { problem: `there is no ${CERT} in ${inWorkdir(ctx)}: the check trusts only that certificate` };
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443), ca };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One request to the gateway over TLS, trusting its certificate file only. */
function get(g: Gateway, path: string, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: g.host,
        port: g.port,
        path,
        method: 'GET',
        ca: g.ca,
        agent: false,
        timeout: 5000,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from https://${g.host}:${g.port}${path} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 token like the lab API's login issues ({sub, email, role}, iat, exp). */
function jwt(
  claims: Record<string, unknown>,
  secret: string,
  expiresIn = 600,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
): string {
  const iat = Math.floor(Date.now() / 1000);
  const body = `${b64(header)}.${b64({ ...claims, iat: expiresIn > 0 ? iat : iat - 7200, exp: iat + expiresIn })}`;
  return header.alg === 'none' ? `${body}.` : `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const client = (name: string) => {
  const id = `labforge-check-${name}-${randomBytes(3).toString('hex')}`;
  return { sub: id, email: `${id}@example.com`, role: 'user' };
};

const tls: Check = {
  id: 'expert-security/gateway-tls',
  title: 'the gateway serves TLS (1.2 or later) with the certificate in tls/gateway.crt and refuses plaintext',
  run: (ctx) =>
    guarded(async () => {
      const g = gatewayOf(ctx);
      if ('problem' in g) return fail(g.problem, GATEWAY_HINT);
      const handshake = await new Promise<{ authorized: boolean; error?: string; protocol: string | null }>((resolve, reject) => {
        const socket = tlsConnect({ host: g.host, port: g.port, ca: g.ca, rejectUnauthorized: false, timeout: 5000 }, () => {
          resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), protocol: socket.getProtocol() });
          socket.end();
        });
        socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out after 5 s')));
        socket.on('error', reject);
      });
      if (!handshake.authorized)
        return fail(
          `the gateway's certificate does not verify against ${CERT}: ${handshake.error}`,
          `serve the certificate of ${CERT}, issued for ${g.host} (subjectAltName IP:${g.host})`,
        );
      if (handshake.protocol !== 'TLSv1.2' && handshake.protocol !== 'TLSv1.3')
        return fail(`the gateway negotiated ${handshake.protocol}`, 'accept TLS 1.2 and 1.3 only (minVersion TLSv1.2)');
      // The same port spoken to in plaintext must not serve the request.
      const plain = await new Promise<string>((resolve) => {
        let text = '';
        const socket = netConnect({ host: g.host, port: g.port });
        socket.setTimeout(3000, () => socket.destroy());
        socket.on('connect', () => socket.write(`GET ${PUBLIC_PATH} HTTP/1.1\r\nHost: ${g.host}\r\nConnection: close\r\n\r\n`));
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', reportedElsewhere);
        socket.on('close', () => resolve(text));
      });
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(plain)?.[1];
      if (status !== undefined && Number(status) < 400)
        return fail(
          `a plaintext HTTP request to ${g.host}:${g.port} was answered ${status}`,
          'serve only TLS on the gateway port (no plaintext listener, no fallback)',
        );
      return pass(
        `${handshake.protocol}, certificate verified against ${CERT}; plaintext ${status ? `answered ${status}` : 'closed without an HTTP answer'}`,
      );
    }, GATEWAY_HINT),
};

const jwtCheck: Check = {
  id: 'expert-security/gateway-jwt',
  title: 'the gateway forwards only requests with a valid lab JWT: missing, forged, alg none and expired tokens get 401',
  run: (ctx) =>
    guarded(async () => {
      const g = gatewayOf(ctx);
      if ('problem' in g) return fail(g.problem, GATEWAY_HINT);
      const secret = ctx.secrets.api?.jwtSecret;
      if (!secret) return fail('the lab has no API JWT secret', 'this check needs the expert lab (its API issues the JWTs)');
      const who = client('jwt');
      const refused: [string, string | undefined][] = [
        ['no token', undefined],
        ['a token signed with another secret', jwt(who, randomBytes(24).toString('hex'))],
        ['an alg none token', jwt(who, secret, 600, { alg: 'none', typ: 'JWT' })],
        ['an expired token', jwt(who, secret, -3600)],
      ];
      for (const [what, token] of refused) {
        const r = await get(g, PUBLIC_PATH, token);
        if (r.status !== 401)
          return fail(
            `GET ${PUBLIC_PATH} with ${what} answered ${r.status}${r.status === 200 ? ' (the lab API serves it to anyone: the gateway must refuse it)' : ''}`,
            'verify the Bearer token (HS256 with the lab JWT secret from `labforge secrets <lab>`, exp) before forwarding; answer 401 otherwise',
          );
      }
      const ok = await get(g, PUBLIC_PATH, jwt(who, secret));
      let body: { shard?: unknown } = {};
      try {
        body = JSON.parse(ok.text) as { shard?: unknown };
      } catch {
        /* not JSON */
      }
      const shard = shardOfKey(ctx, EXERCISE_KEY);
      if (ok.status !== 200 || body.shard !== shard)
        return fail(
          `GET ${PUBLIC_PATH} with a valid token answered ${ok.status} ${ok.text.slice(0, 120)}`,
          "forward valid requests to the lab API (a region's load balancer, `labforge status`) and return its answer",
        );
      return pass(
        `401 for no token, a forged one, alg none and an expired one; a valid token reaches the lab API (shard ${shard} for ${EXERCISE_KEY})`,
      );
    }, GATEWAY_HINT),
};

const rateLimit: Check = {
  id: 'expert-security/gateway-rate-limit',
  title: 'the gateway rate-limits per client: a burst of one client gets 429 with Retry-After, another client still gets 200',
  run: (ctx) =>
    guarded(async () => {
      const g = gatewayOf(ctx);
      if ('problem' in g) return fail(g.problem, GATEWAY_HINT);
      const secret = ctx.secrets.api?.jwtSecret;
      if (!secret) return fail('the lab has no API JWT secret', 'this check needs the expert lab (its API issues the JWTs)');
      // 30 requests at once: far over 10 per second, whatever the machine's speed. First from 30
      // different clients (none may be limited), then from one client (some must be).
      const strangers = (await Promise.all(Array.from({ length: 30 }, () => get(g, PUBLIC_PATH, jwt(client('c'), secret))))).filter(
        (r) => r.status !== 200,
      );
      if (strangers.length > 0)
        return fail(
          `30 requests of 30 different clients at once: ${strangers.length} answered ${listOf(new Set(strangers.map((r) => r.status)))}`,
          'limit per client (the token sub), not per address or globally',
        );
      const a = jwt(client('a'), secret);
      const replies = await Promise.all(Array.from({ length: 30 }, () => get(g, PUBLIC_PATH, a)));
      const count = (s: number) => replies.filter((r) => r.status === s).length;
      const other = replies.filter((r) => r.status !== 200 && r.status !== 429);
      if (other.length > 0)
        return fail(
          `a burst of 30 requests got ${listOf(new Set(other.map((r) => r.status)))} besides 200 and 429`,
          'forward what the limit allows (200), answer 429 beyond it',
        );
      if (count(429) === 0)
        return fail(
          '30 requests at once with one token: all answered 200',
          'limit each client (the token sub) to 10 requests per second, 429 beyond',
        );
      if (count(200) === 0)
        return fail(
          '30 requests at once with one token: all answered 429',
          'a fresh client must get its first requests through (10 per second)',
        );
      if (!replies.some((r) => r.status === 429 && r.headers['retry-after'] !== undefined))
        return fail('the 429 answers carry no Retry-After header', 'add Retry-After (seconds) to every 429');
      const b = await get(g, PUBLIC_PATH, jwt(client('b'), secret));
      if (b.status !== 200)
        return fail(
          `right after client A's burst, client B got ${b.status}`,
          'limit per client (the token sub), not per address or globally',
        );
      return pass(
        `30 clients at once: all 200; one client's burst of 30: ${count(200)} x 200, ${count(429)} x 429 with Retry-After; another client right after: 200`,
      );
    }, GATEWAY_HINT),
};

const TABLE = 'customer_pii';

/** AES-256-GCM: 12-byte IV, ciphertext, 16-byte tag. Throws when the key or the data is wrong. */
function decrypt(data: Buffer, key: Buffer): string {
  if (data.length < 28) throw new Error('shorter than IV + tag');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
}

/** keys/<id>.key of the workdir: 64 hex digits each. */
function readKeys(ctx: CheckContext): { keys: Map<string, Buffer>; problems: string[] } {
  const keys = new Map<string, Buffer>();
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(inWorkdir(ctx, 'keys')).filter((n) => n.endsWith('.key'));
  } catch {
    return { keys, problems: [`there is no keys/ directory in ${inWorkdir(ctx)}`] };
  }
  for (const name of names) {
    const path = inWorkdir(ctx, 'keys', name);
    const hex = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) problems.push(`keys/${name} is not 64 hex digits (a 256-bit key)`);
    else keys.set(name.slice(0, -'.key'.length), Buffer.from(hex, 'hex'));
    if ((statSync(path).mode & 0o077) !== 0)
      problems.push(`keys/${name} is readable by others (mode ${(statSync(path).mode & 0o777).toString(8)}): chmod 600`);
  }
  return { keys, problems };
}

interface PiiRow {
  id: string;
  ssn: Buffer;
  key_id: string;
  rest: Record<string, unknown>;
}

async function piiRows(ctx: CheckContext): Promise<PiiRow[] | { problem: string; hint: string }> {
  const create = `CREATE TABLE ${TABLE} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, ssn bytea NOT NULL, key_id text NOT NULL)`;
  return withDb(ctx, async (db) => {
    if (!(await tableExists(db, TABLE))) return { problem: `there is no table ${TABLE} on shard 0's primary`, hint: create };
    const cols = (
      await db.query<{ c: string; t: string }>(
        `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
        [TABLE],
      )
    ).rows;
    const type = (c: string) => cols.find((x) => x.c === c)?.t;
    if (type('ssn') !== 'bytea' || type('key_id') !== 'text')
      return { problem: `${TABLE} needs ssn bytea and key_id text (has ${cols.map((c) => `${c.c} ${c.t}`).join(', ')})`, hint: create };
    const rows = (
      await db.query<PiiRow>(`SELECT ctid::text AS id, ssn, key_id, to_jsonb(t) - 'ssn' - 'key_id' AS rest FROM ${TABLE} t LIMIT 1000`)
    ).rows;
    if (rows.length === 0) return { problem: `${TABLE} is empty`, hint: 'insert a few customers, their ssn encrypted by your app' };
    return rows;
  });
}

const encrypted: Check = {
  id: 'expert-security/encrypted-column',
  title: `${TABLE}.ssn is AES-256-GCM ciphertext that decrypts with keys/<key_id>.key (mode 0600); no plaintext in the table`,
  run: (ctx) =>
    guarded(async () => {
      const rows = await piiRows(ctx);
      if (!Array.isArray(rows)) return fail(rows.problem, rows.hint);
      const { keys, problems } = readKeys(ctx);
      if (problems.length > 0) return fail(problems.join('\n'), 'one key per file, keys/<key_id>.key: 64 hex digits, readable by you only');
      for (const row of rows) {
        const key = keys.get(row.key_id);
        if (!key)
          return fail(
            `row ${row.id} names key ${row.key_id}, and there is no keys/${row.key_id}.key`,
            'keep every key a row names in keys/<key_id>.key',
          );
        let plain: string;
        try {
          plain = decrypt(row.ssn, key);
        } catch (error) {
          return fail(
            `row ${row.id}: ssn does not decrypt with keys/${row.key_id}.key (${(error as Error).message})`,
            'store IV (12 bytes) + ciphertext + tag (16 bytes) of AES-256-GCM',
          );
        }
        if (plain.length >= 4 && (row.ssn.includes(Buffer.from(plain)) || JSON.stringify(row.rest).includes(plain)))
          return fail(`row ${row.id}: the plaintext of ssn is stored in the table`, 'store only the ciphertext');
      }
      return pass(`${rows.length} row(s): ssn decrypts with keys/{${listOf(new Set(rows.map((r) => r.key_id)))}}.key; no plaintext stored`);
    }, 'the lab database did not answer: `labforge health <lab>`'),
};

const rotation: Check = {
  id: 'expert-security/key-rotation',
  title: `the key of ${TABLE} was rotated: every row is on one key, an older key file is kept and decrypts no row`,
  run: (ctx) =>
    guarded(async () => {
      const rows = await piiRows(ctx);
      if (!Array.isArray(rows)) return fail(rows.problem, rows.hint);
      const used = new Set(rows.map((r) => r.key_id));
      if (used.size > 1)
        return fail(
          `rows are on keys ${listOf(used)}`,
          're-encrypt every row with the new key (decrypt with the old one, encrypt with the new one, set key_id)',
        );
      const current = [...used][0]!;
      const { keys } = readKeys(ctx);
      const older = [...keys.keys()].filter((id) => id !== current);
      if (older.length === 0)
        return fail(
          `every row is on ${current} and there is no other key in keys/`,
          'rotate: create a new key file, re-encrypt every row with it, keep the old file',
        );
      for (const id of older) {
        const still = rows.find((r) => {
          try {
            decrypt(r.ssn, keys.get(id)!);
            return true;
          } catch {
            return false;
          }
        });
        if (still) return fail(`row ${still.id} still decrypts with the old key ${id}`, 'a new key must be new: generate 32 random bytes');
      }
      return pass(`every row on ${current}; older key(s) ${listOf(older)} kept, decrypting none`);
    }, 'the lab database did not answer: `labforge health <lab>`'),
};

export const SECURITY_CHECKS: readonly Check[] = [tls, jwtCheck, rateLimit, encrypted, rotation];
