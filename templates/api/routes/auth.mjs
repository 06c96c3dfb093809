// POST /auth/register, POST /auth/login, GET /me
import { HttpError } from '../lib/http.mjs';
import { signJwt } from '../lib/jwt.mjs';
import { hashPassword, verifyPassword } from '../lib/password.mjs';

const TOKEN_TTL_SECONDS = 3600;

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ db: ReturnType<typeof import('../lib/shards.mjs').createDatabase>, config: { jwtSecret: string },
 *   jobs?: { enabled: boolean, publish(job: object): Promise<string> },
 *   events?: ReturnType<typeof import('../lib/events.mjs').createEvents> }} deps
 */
export function addAuthRoutes(router, { db, config, jobs, events }) {
  // The shard key is the email: an account and all its notes live on db.forKey(email).
  // Hashing for unknown emails too keeps login time the same whether or not the email exists.
  const dummyHash = hashPassword('not a real password');

  router.add('POST', '/auth/register', { summary: 'create an account {email, password}' }, async (ctx) => {
    const { email, password } = credentials(await ctx.json());
    if (!email.includes('@')) throw new HttpError(400, 'email must contain "@"');
    if (password.length < 8) throw new HttpError(400, 'password must be at least 8 characters');
    try {
      const { rows } = await db
        .forKey(email)
        .query('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email, role', [email, await hashPassword(password)]);
      const user = toUser(rows[0]);
      return {
        status: 201,
        body: user,
        headers: { ...(await welcome(user)), ...(await publishEvent(events, 'user.registered', email, user)) },
      };
    } catch (err) {
      if (err.code === '23505') throw new HttpError(409, 'email already registered'); // unique_violation
      throw err;
    }
  });

  /**
   * With AMQP_URL: queue the welcome email. The account exists either way, so a broker that is
   * down costs the email (logged), never the registration. (An outbox table would fix that.)
   */
  async function welcome(user) {
    if (!jobs?.enabled) return {};
    try {
      const jobId = await jobs.publish({ type: 'welcome-email', userId: user.id, email: user.email });
      return { 'X-Job-Id': jobId };
    } catch (err) {
      console.error(`welcome-email for user ${user.id} not queued: ${err.message}`);
      return {};
    }
  }

  router.add('POST', '/auth/login', { summary: 'get a 1 h JWT {email, password}' }, async (ctx) => {
    const { email, password } = credentials(await ctx.json());
    const { rows } = await db.forKey(email).query('SELECT id, email, role, password_hash FROM users WHERE email = $1', [email]);
    const user = rows[0];
    const ok = await verifyPassword(password, user ? user.password_hash : await dummyHash);
    if (!user || !ok) throw new HttpError(401, 'wrong email or password');
    const token = signJwt({ sub: String(user.id), email: user.email, role: user.role }, config.jwtSecret, {
      expiresInSeconds: TOKEN_TTL_SECONDS,
    });
    return { status: 200, body: { token, expiresIn: TOKEN_TTL_SECONDS } };
  });

  router.add('GET', '/me', { summary: 'who am I', auth: true }, async (ctx) => {
    // Read the database rather than the token, so a deleted user is refused.
    const { rows } = await db.forKey(ctx.user.email).query('SELECT id, email, role FROM users WHERE id = $1', [ctx.user.id]);
    if (!rows[0]) throw new HttpError(401, 'user no longer exists');
    return { status: 200, body: toUser(rows[0]) };
  });
}

/**
 * With KAFKA_BROKERS: publish a domain event; `X-Event` names where it went (topic/partition@offset)
 * or why it did not. The write is committed either way (an outbox table would close that gap).
 */
export async function publishEvent(events, type, key, data) {
  if (!events?.enabled) return {};
  try {
    return { 'X-Event': await events.publish(type, key, data) };
  } catch (err) {
    console.error(`event ${type} for ${key} not published: ${err.message}`);
    return { 'X-Event': `failed: ${err.message}`.slice(0, 200) };
  }
}

function credentials(body) {
  const { email, password } = body;
  if (typeof email !== 'string' || typeof password !== 'string') {
    throw new HttpError(400, 'email and password are required strings');
  }
  return { email, password };
}

function toUser(row) {
  return { id: Number(row.id), email: row.email, role: row.role };
}
