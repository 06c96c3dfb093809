// Reference solutions of the advanced exercises (kept in tests, not shipped to learners): what a
// learner does through the load balancer and RabbitMQ, a consumer of a new event type, a small
// learner app (node:http + pg + ioredis + amqplib), the failover drill, and the CI/CD files.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { cleanupMayFail } from '../../../constructs/model/quiet.js';

export interface LabUrls {
  readonly db: string;
  readonly cache: string;
  readonly mq: string;
  /** The HAProxy entry point. */
  readonly lb: string;
  readonly jwtSecret: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Messages of `queue` whose messageId is `id`, read without taking them out. */
async function inQueue(mqUrl: string, queue: string, id: string): Promise<boolean> {
  const conn = await amqp.connect(mqUrl);
  try {
    const channel = await conn.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    for (let n = 0; n < messageCount; n++) {
      const m = await channel.get(queue, { noAck: false });
      if (m && m.properties.messageId === id) return true;
    }
    return false;
  } finally {
    await conn.close(); // the unacked messages go back
  }
}

/** advanced-async-services, steps 1 and 2: an @exercise.test account, a job done and a job dead-lettered. */
export async function solveJobs(urls: LabUrls): Promise<void> {
  const user = { email: `learner-${randomBytes(3).toString('hex')}@exercise.test`, password: 'correct horse battery' };
  if ((await call(urls.lb, 'POST', '/auth/register', user)).status !== 201) throw new Error('register failed');
  const { body: login } = await call(urls.lb, 'POST', '/auth/login', user);
  const ok = await call(urls.lb, 'POST', '/jobs', {}, login.token);
  await until('job done', 10_000, async () =>
    (await call(urls.lb, 'GET', `/jobs/${ok.body.jobId}`, undefined, login.token)).body.status === 'done' ? true : undefined,
  );
  const failing = await call(urls.lb, 'POST', '/jobs', { fail: true }, login.token);
  await until('job in jobs.dead', 15_000, async () => ((await inQueue(urls.mq, 'jobs.dead', failing.body.jobId)) ? true : undefined));
}

/** advanced-async-services, step 3: a consumer of audit.* events on its own queue, recording each in audit_log. */
export async function startAuditConsumer(urls: LabUrls): Promise<{ close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: urls.db, max: 2 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS audit_log (event_id text PRIMARY KEY, type text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
  );
  const conn = await amqp.connect(urls.mq);
  const channel = await conn.createChannel();
  await channel.assertExchange('events', 'topic', { durable: true });
  await channel.assertQueue('audit', { durable: true });
  await channel.bindQueue('audit', 'events', 'audit.#');
  await channel.consume('audit', (message) => {
    if (!message) return;
    const event = JSON.parse(message.content.toString('utf8')) as { id: string; type: string };
    pool.query('INSERT INTO audit_log (event_id, type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING', [event.id, event.type]).then(
      () => channel.ack(message),
      () => channel.nack(message, false, true),
    );
  });
  return {
    close: async () => {
      await conn.close().catch(cleanupMayFail);
      await pool.end();
    },
  };
}

/** advanced-caching, step 3: a filled emails_sent, then an index on user_id. */
export async function solveIndex(urls: LabUrls): Promise<void> {
  const db = new pg.Client({ connectionString: urls.db });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO emails_sent (user_id, email, job_id) SELECT n % 500, 'seed@example.com', 'seed-' || n FROM generate_series(1, 20000) n ON CONFLICT DO NOTHING`,
    );
    await db.query('CREATE INDEX IF NOT EXISTS emails_sent_user_id_idx ON emails_sent (user_id)');
    await db.query('ANALYZE emails_sent');
  } finally {
    await db.end();
  }
}

/** advanced-ha-scaling, step 2: kill an instance, send requests while it is out, bring it back with `heal`. */
export async function drillFailover(o: {
  pid: number;
  server: string;
  lb: string;
  lbLog: string;
  heal: () => Promise<void>;
}): Promise<void> {
  // Only what HAProxy logs from now on: every `up` logs instances DOWN (503) while they start.
  const from = readFileSync(o.lbLog, 'utf8').length;
  const logged = (state: string) => readFileSync(o.lbLog, 'utf8').slice(from).includes(`Server api/${o.server} is ${state}`);
  process.kill(o.pid, 'SIGKILL');
  await until(`${o.server} DOWN in the HAProxy log`, 10_000, async () => (logged('DOWN') ? true : undefined));
  for (let i = 0; i < 6; i++)
    if ((await call(o.lb, 'GET', '/health')).status !== 200) throw new Error('a request failed while an instance was out');
  await o.heal();
  await until(`${o.server} UP in the HAProxy log`, 10_000, async () => (logged('UP') ? true : undefined));
}

async function body(req: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** The claims of a valid HS256 token of the lab API, or undefined. */
function verify(header: string | undefined, secret: string): { sub: string; role: string } | undefined {
  const [head, payload, signature] = /^Bearer (\S+)$/.exec(header ?? '')?.[1]?.split('.') ?? [];
  if (!head || !payload || !signature) return undefined;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url'));
  if (expected.length !== Buffer.from(signature).length || !timingSafeEqual(expected, Buffer.from(signature))) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string; role: string; exp: number };
  return claims.exp > Date.now() / 1000 ? claims : undefined;
}

/** Moves the message `jobId` from jobs.dead back to jobs (fresh attempts); false when it is not there. */
async function requeue(conn: amqp.ChannelModel, jobId: string): Promise<boolean> {
  const channel = await conn.createConfirmChannel();
  try {
    const { messageCount } = await channel.checkQueue('jobs.dead');
    for (let n = 0; n < messageCount; n++) {
      const m = await channel.get('jobs.dead', { noAck: false });
      if (!m || m.properties.messageId !== jobId) continue;
      const { 'x-death': _death, 'x-attempts': _attempts, 'x-last-error': _error, ...headers } = m.properties.headers ?? {};
      await new Promise<void>((resolve, reject) =>
        channel.sendToQueue(
          'jobs',
          m.content,
          { persistent: true, messageId: jobId, contentType: m.properties.contentType, headers },
          (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        ),
      );
      channel.ack(m);
      return true;
    }
    return false;
  } finally {
    await channel.close(); // the other dead letters go back
  }
}

/** The learner's app on 127.0.0.1:`port`: the cached summary, notes, and the admin requeue. */
export async function startApp(urls: LabUrls, port: number): Promise<{ close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: urls.db, max: 4 });
  const redis = new Redis(urls.cache);
  const mq = await amqp.connect(urls.mq);
  const server: Server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const summaryOf = /^\/users\/(\d+)\/summary$/.exec(path)?.[1];
      const notesOf = /^\/users\/(\d+)\/notes$/.exec(path)?.[1];
      if (summaryOf && req.method === 'GET') {
        const key = `summary:${summaryOf}`;
        const cached = await redis.get(key);
        if (cached) return send(res, 200, JSON.parse(cached), { 'x-cache': 'HIT' });
        const { rows } = await pool.query(
          `SELECT u.id, u.email, (SELECT count(*)::int FROM notes n WHERE n.user_id = u.id) AS notes,
                  (SELECT count(*)::int FROM emails_sent e WHERE e.user_id = u.id) AS "emailsSent"
           FROM users u WHERE u.id = $1`,
          [summaryOf],
        );
        if (!rows[0]) return send(res, 404, { error: 'no such user' });
        await redis.set(key, JSON.stringify(rows[0]), 'EX', 60);
        return send(res, 200, rows[0], { 'x-cache': 'MISS' });
      }
      if (notesOf && req.method === 'POST') {
        const { title } = await body(req);
        const { rows } = await pool.query('INSERT INTO notes (user_id, title) VALUES ($1, $2) RETURNING id', [notesOf, String(title)]);
        await redis.del(`summary:${notesOf}`); // after the commit: the next read sees the note
        return send(res, 201, { id: rows[0].id });
      }
      if (path === '/admin/requeue' && req.method === 'POST') {
        const claims = verify(req.headers.authorization, urls.jwtSecret);
        if (!claims) return send(res, 401, { error: 'a valid token is required' }, { 'www-authenticate': 'Bearer' });
        if (claims.role !== 'admin') return send(res, 403, { error: 'admins only' });
        const { jobId } = await body(req);
        if (typeof jobId !== 'string') return send(res, 400, { error: 'jobId is required' });
        return (await requeue(mq, jobId)) ? send(res, 200, { jobId, requeued: true }) : send(res, 404, { error: 'not in jobs.dead' });
      }
      return send(res, 404, { error: 'not found' });
    } catch (error) {
      return send(res, 500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await Promise.all([pool.end(), redis.quit().catch(cleanupMayFail), mq.close().catch(cleanupMayFail)]);
    },
  };
}

const DOCKERFILE = `# The labforge starter API (templates/api) as an image.
FROM node:20-alpine
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
ENV LABFORGE_API_HOST=0.0.0.0 \\
    LABFORGE_API_PORT=8080
USER node
EXPOSE 8080
CMD ["node", "server.mjs"]
`;

const WORKFLOW = `name: api
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:15
        env:
          POSTGRES_USER: learner
          POSTGRES_PASSWORD: ci-only
          POSTGRES_DB: lab
        ports: ['5432:5432']
        options: --health-cmd "pg_isready -U learner" --health-interval 2s --health-retries 20
      rabbitmq:
        image: rabbitmq:3
        env:
          RABBITMQ_DEFAULT_USER: learner
          RABBITMQ_DEFAULT_PASS: ci-only
          RABBITMQ_DEFAULT_VHOST: lab
        ports: ['5672:5672']
        options: --health-cmd "rabbitmq-diagnostics -q ping" --health-interval 5s --health-retries 20
    env:
      DATABASE_URL: postgres://learner:ci-only@localhost:5432/lab
      AMQP_URL: amqp://learner:ci-only@localhost:5672/lab
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      - run: npm test
  deploy:
    needs: test
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: \${{ secrets.DEPLOY_ROLE_ARN }}
          aws-region: us-east-1
      - id: ecr
        uses: aws-actions/amazon-ecr-login@v2
      - name: build and push the image
        run: |
          IMAGE=\${{ steps.ecr.outputs.registry }}/api:\${{ github.sha }}
          docker build -t "$IMAGE" .
          docker push "$IMAGE"
      - name: rolling update
        run: |
          aws eks update-kubeconfig --name "\${{ vars.EKS_CLUSTER }}"
          kubectl -n lf-advanced set image deployment/api api=\${{ steps.ecr.outputs.registry }}/api:\${{ github.sha }}
          kubectl -n lf-advanced rollout status deployment/api --timeout=5m
`;

/** advanced-cicd: the Dockerfile and the workflow in `dir`. */
export function writeCicd(dir: string): void {
  mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, '.github', 'workflows', 'api.yml'), WORKFLOW);
}

export const SOLUTION_FILES = { DOCKERFILE, WORKFLOW };
