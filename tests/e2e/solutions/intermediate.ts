// Reference solutions of the intermediate exercises (kept in tests, not shipped to learners): the
// SQL a learner runs, the files of their working directory (a Git repository, .gitignore, .env,
// a CI workflow), and a small learner app (node:http + pg + ioredis) that does what the steps ask.
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';

export async function solveSql(url: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`CREATE TABLE tags (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL UNIQUE)`);
    await db.query(`CREATE TABLE note_tags (
      note_id bigint NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
      tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
      PRIMARY KEY (note_id, tag_id))`);
    // The key (note_id, tag_id) cannot serve "notes with tag X": an index that starts with tag_id can.
    await db.query('CREATE INDEX note_tags_tag_id_idx ON note_tags (tag_id, note_id)');
    await db.query('ANALYZE note_tags');
  } finally {
    await db.end();
  }
}

const CI = `name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:15
        env:
          POSTGRES_PASSWORD: postgres
        ports: ['5432:5432']
        options: --health-cmd pg_isready --health-interval 2s --health-retries 15
    env:
      DATABASE_URL: postgres://postgres:postgres@localhost:5432/postgres
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      - run: npm test
`;

/** The learner's working directory: .env (ignored), .gitignore, a CI workflow, all committed with Git. */
export function solveWorkdir(dir: string, env: { paymentUrl: string; webhookSecret: string }): void {
  writeFileSync(
    join(dir, '.env'),
    `# local settings, never committed\nPAYMENT_URL=${env.paymentUrl}\nPAYMENT_WEBHOOK_SECRET="${env.webhookSecret}"\n`,
  );
  writeFileSync(join(dir, '.gitignore'), 'node_modules/\n.env\nlogs/\nuploads/\n');
  writeFileSync(join(dir, '.env.example'), 'PAYMENT_URL=\nPAYMENT_WEBHOOK_SECRET=\n');
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'notes-api', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  );
  mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.github', 'workflows', 'ci.yml'), CI);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Learner', '-c', 'user.email=learner@example.com', '-c', 'init.defaultBranch=main', ...args], {
      cwd: dir,
      stdio: 'ignore',
    });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'notes API with CI');
}

class Problem extends Error {
  constructor(
    readonly status: number,
    title: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(title);
  }
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string | number>;
}

interface Caller {
  id: number;
  email: string;
  role: string;
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function sign(claims: Record<string, unknown>, secret: string): string {
  const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
}

function verify(req: IncomingMessage, secret: string): Caller {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  const [header, payload, signature] = (token ?? '').split('.');
  const refuse = new Problem(401, 'missing or invalid bearer token', { 'www-authenticate': 'Bearer' });
  if (!header || !payload || !signature) throw refuse;
  if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'HS256') throw refuse;
  if (!same(signature, createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'))) throw refuse;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string; email: string; role: string; exp: number };
  if (claims.exp < Date.now() / 1000) throw refuse;
  return { id: Number(claims.sub), email: claims.email, role: claims.role };
}

async function raw(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Problem(413, 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  try {
    return JSON.parse((await raw(req)).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof Problem) throw error;
    throw new Problem(400, 'the body is not valid JSON');
  }
}

/** The bytes of the multipart part named `field`. */
function filePart(body: Buffer, contentType: string, field: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new Problem(400, 'expected multipart/form-data with a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0 && new RegExp(`name="${field}"`).test(part.subarray(0, split).toString())) return part.subarray(split + 4);
    start = next;
  }
  throw new Problem(400, `no file in field "${field}"`);
}

export interface AppOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly port: number;
  readonly workdir: string;
  readonly paymentUrl: string;
  readonly webhookSecret: string;
}

/** The learner's app on 127.0.0.1:`port`, on the lab's PostgreSQL and Redis, writing into `workdir`. */
export async function startApp(o: AppOptions): Promise<Server> {
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 4 });
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
  const jwtSecret = randomBytes(32).toString('hex');
  const logFile = join(o.workdir, 'logs', 'requests.log');
  const uploads = join(o.workdir, 'uploads');
  mkdirSync(join(o.workdir, 'logs'), { recursive: true });
  mkdirSync(uploads, { recursive: true });
  const webhooksSeen = new Set<string>();

  async function charge(amountCents: unknown, currency: unknown): Promise<string> {
    const key = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await fetch(`${o.paymentUrl}/charges`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ amountCents, currency }),
          signal: AbortSignal.timeout(1000),
        });
        if (r.ok) return ((await r.json()) as { id: string }).id;
        if (r.status < 500) throw new Problem(502, `the payment provider refused: ${r.status}`);
      } catch (error) {
        if (error instanceof Problem) throw error; // a timeout or a lost connection: retry
      }
      if (attempt === 4) throw new Problem(502, 'the payment provider did not answer');
      await sleep(100 * 2 ** attempt);
    }
  }

  async function route(req: IncomingMessage, url: URL): Promise<Reply> {
    const { pathname: path, searchParams: query } = url;
    const m = `${req.method} ${path}`;
    const note = /^\/notes\/(\d+)(\/tags)?$/.exec(path);
    if (m === 'POST /auth/register') {
      const { email, password } = await json(req);
      if (typeof email !== 'string' || typeof password !== 'string' || password.length < 8)
        throw new Problem(400, 'email and a password of 8+ characters are required');
      const salt = randomBytes(16);
      const hash = `scrypt$${salt.toString('hex')}$${(await scryptAsync(password, salt, 32)).toString('hex')}`;
      try {
        const r = await pool.query('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email, role', [email, hash]);
        return { status: 201, body: r.rows[0] };
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new Problem(409, 'email already registered');
        throw error;
      }
    }
    if (m === 'POST /auth/login') {
      const { email, password } = await json(req);
      const fails = `login-fails:${String(email)}`;
      if (Number(await redis.get(fails)) >= 10)
        throw new Problem(429, 'too many failed logins', { 'retry-after': String(Math.max(1, await redis.ttl(fails))) });
      const r = await pool.query<{ id: string; email: string; role: string; password_hash: string }>(
        'SELECT id, email, role, password_hash FROM users WHERE email = $1',
        [email],
      );
      const [, salt, digest] = (r.rows[0]?.password_hash ?? 'scrypt$00$00').split('$');
      const ok =
        typeof password === 'string' &&
        r.rows[0] !== undefined &&
        same((await scryptAsync(password, Buffer.from(salt!, 'hex'), 32)).toString('hex'), digest!);
      if (!ok) {
        if ((await redis.incr(fails)) === 1) await redis.expire(fails, 60);
        throw new Problem(401, 'wrong email or password');
      }
      const u = r.rows[0]!;
      return { status: 200, body: { token: sign({ sub: u.id, email: u.email, role: u.role }, jwtSecret) } };
    }
    if (m === 'POST /webhooks/payment') {
      const body = await raw(req);
      const expected = `sha256=${createHmac('sha256', o.webhookSecret).update(body).digest('hex')}`;
      if (!same(String(req.headers['x-signature'] ?? ''), expected)) throw new Problem(401, 'bad webhook signature');
      const event = JSON.parse(body.toString('utf8')) as { id: string };
      const duplicate = webhooksSeen.has(event.id);
      webhooksSeen.add(event.id);
      return { status: 200, body: { received: true, duplicate } };
    }
    if (m === 'GET /me' || m === 'GET /users' || m === 'POST /notes' || m === 'POST /uploads' || m === 'POST /payments' || note) {
      const me = verify(req, jwtSecret);
      if (m === 'GET /me')
        return { status: 200, body: (await pool.query('SELECT id, email, role FROM users WHERE id = $1', [me.id])).rows[0] };
      if (m === 'GET /users') {
        if (me.role !== 'admin') throw new Problem(403, 'admins only');
        const [limit, offset] = [query.get('limit') ?? '10', query.get('offset') ?? '0'];
        if (!/^\d+$/.test(limit) || +limit < 1 || +limit > 100 || !/^\d+$/.test(offset))
          throw new Problem(400, 'limit must be 1-100, offset >= 0');
        const [page, count] = await Promise.all([
          pool.query('SELECT id, email, role FROM users ORDER BY id DESC LIMIT $1 OFFSET $2', [limit, offset]),
          pool.query('SELECT count(*)::int AS n FROM users'),
        ]);
        return {
          status: 200,
          body: { items: page.rows, limit: +limit, offset: +offset, total: count.rows[0].n },
          headers: { 'x-total-count': count.rows[0].n },
        };
      }
      if (m === 'POST /notes') {
        const { title } = await json(req);
        const r = await pool.query('INSERT INTO notes (user_id, title) VALUES ($1, $2) RETURNING id, title', [me.id, title]);
        return { status: 201, body: r.rows[0], headers: { location: `/notes/${r.rows[0].id}` } };
      }
      if (m === 'POST /uploads') {
        const bytes = filePart(await raw(req), req.headers['content-type'] ?? '', 'file');
        const id = randomUUID();
        writeFileSync(join(uploads, id), bytes);
        return { status: 201, body: { id }, headers: { location: `/uploads/${id}` } };
      }
      if (m === 'POST /payments') {
        const { amountCents, currency } = await json(req);
        return { status: 201, body: { paymentId: await charge(amountCents, currency) } };
      }
      const id = note![1]!;
      if (!note![2] && req.method === 'GET') {
        const cached = JSON.parse((await redis.get(`note:${id}`)) ?? 'null') as { user_id: string } | null;
        if (cached && Number(cached.user_id) === me.id) return { status: 200, body: cached, headers: { 'x-cache': 'HIT' } };
      }
      const owned = await pool.query('SELECT id, user_id, title, body, created_at FROM notes WHERE id = $1 AND user_id = $2', [id, me.id]);
      if (!owned.rows[0]) throw new Problem(404, 'note not found');
      if (note![2] && req.method === 'POST') {
        const { name } = await json(req);
        if (typeof name !== 'string' || name === '') throw new Problem(400, 'name is required');
        const tag = await pool.query(
          'INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id',
          [name],
        );
        await pool.query('INSERT INTO note_tags (note_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, tag.rows[0].id]);
        await redis.del(`note:${id}`);
        return { status: 201, body: { noteId: Number(id), tag: name } };
      }
      if (!note![2] && req.method === 'GET') {
        const tags = await pool.query<{ name: string }>(
          'SELECT t.name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id WHERE nt.note_id = $1 ORDER BY t.name',
          [id],
        );
        const body = { ...owned.rows[0], tags: tags.rows.map((t) => t.name) };
        await redis.set(`note:${id}`, JSON.stringify(body), 'EX', 60);
        return { status: 200, body, headers: { 'x-cache': 'MISS' } };
      }
    }
    throw new Problem(404, `no route for ${m}`);
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string | number> = {},
    type = 'application/json',
  ): void {
    res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'content-type': type }) });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  }

  const server = createServer(async (req, res) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.on('finish', () =>
      appendFileSync(
        logFile,
        `${JSON.stringify({ requestId, method: req.method, path: url.pathname, status: res.statusCode, ms: +(performance.now() - started).toFixed(1) })}\n`,
      ),
    );
    try {
      const reply = await route(req, url);
      send(res, reply.status, reply.body, reply.headers);
    } catch (error) {
      const problem = error instanceof Problem ? error : new Problem(500, 'internal server error');
      if (!(error instanceof Problem)) console.error(error);
      send(
        res,
        problem.status,
        { type: 'about:blank', title: problem.message, status: problem.status },
        problem.headers,
        'application/problem+json',
      );
    }
  });
  server.on('close', () => {
    void pool.end();
    redis.disconnect();
  });
  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));
  return server;
}
