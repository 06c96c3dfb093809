// Notes CRUD. Every query is scoped to the caller: someone else's note is simply "not found".
import { HttpError } from '../lib/http.mjs';
import { publishEvent } from './auth.mjs';

const CACHE_TTL_SECONDS = 60;
const COLUMNS = 'id, user_id, title, body, created_at, updated_at';

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ db: ReturnType<typeof import('../lib/shards.mjs').createDatabase>,
 *   cache: ReturnType<typeof import('../lib/cache.mjs').createCache>,
 *   events?: ReturnType<typeof import('../lib/events.mjs').createEvents> }} deps
 */
export function addNoteRoutes(router, { db, cache, events }) {
  const auth = true;
  // A user's notes live on the shard of the user's email (one pool when not sharded).
  const shardOf = (ctx) => db.forKey(ctx.user.email);

  router.add('POST', '/notes', { summary: 'create a note {title, body?}', auth }, async (ctx) => {
    const input = await ctx.json();
    const title = field(input, 'title', { required: true, nonEmpty: true });
    const body = field(input, 'body') ?? '';
    const { rows } = await shardOf(ctx).query(`INSERT INTO notes (user_id, title, body) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
      ctx.user.id,
      title,
      body,
    ]);
    const note = toNote(rows[0]);
    const event = await publishEvent(events, 'note.created', ctx.user.email, note);
    return { status: 201, body: note, headers: { Location: `/notes/${note.id}`, ...event } };
  });

  router.add('GET', '/notes', { summary: 'list your notes ?limit=10&offset=0', auth }, async (ctx) => {
    const limit = integer(ctx.query, 'limit', { fallback: 10, min: 1, max: 100 });
    const offset = integer(ctx.query, 'offset', { fallback: 0, min: 0 });
    const pool = shardOf(ctx);
    const [page, count] = await Promise.all([
      pool.query(
        `SELECT ${COLUMNS} FROM notes WHERE user_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [ctx.user.id, limit, offset],
      ),
      pool.query('SELECT count(*) AS total FROM notes WHERE user_id = $1', [ctx.user.id]),
    ]);
    const total = Number(count.rows[0].total);
    return {
      status: 200,
      body: { items: page.rows.map(toNote), limit, offset, total },
      headers: { 'X-Total-Count': total },
    };
  });

  router.add('GET', '/notes/:id', { summary: 'one note (cached 60 s in Redis)', auth }, async (ctx) => {
    const id = noteId(ctx.params.id);
    const cached = await cache.get(cacheKey(id));
    if (cached && cached.userId === ctx.user.id) {
      return { status: 200, body: cached, headers: { 'X-Cache': 'HIT' } };
    }
    const xCache = cache.enabled ? 'MISS' : 'OFF';
    const { rows } = await shardOf(ctx).query(`SELECT ${COLUMNS} FROM notes WHERE id = $1 AND user_id = $2`, [id, ctx.user.id]);
    if (!rows[0]) throw new HttpError(404, 'note not found', { 'X-Cache': xCache });
    const note = toNote(rows[0]);
    await cache.set(cacheKey(id), note, CACHE_TTL_SECONDS);
    return { status: 200, body: note, headers: { 'X-Cache': xCache } };
  });

  router.add('PUT', '/notes/:id', { summary: 'update a note {title?, body?}', auth }, async (ctx) => {
    const id = noteId(ctx.params.id);
    const input = await ctx.json();
    const title = field(input, 'title', { nonEmpty: true });
    const body = field(input, 'body');
    const { rows } = await shardOf(ctx).query(
      `UPDATE notes SET title = coalesce($3, title), body = coalesce($4, body), updated_at = now()
       WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, ctx.user.id, title, body],
    );
    if (!rows[0]) throw new HttpError(404, 'note not found');
    await cache.del(cacheKey(id));
    const note = toNote(rows[0]);
    return { status: 200, body: note, headers: await publishEvent(events, 'note.updated', ctx.user.email, note) };
  });

  router.add('DELETE', '/notes/:id', { summary: 'delete a note', auth }, async (ctx) => {
    const id = noteId(ctx.params.id);
    const { rowCount } = await shardOf(ctx).query('DELETE FROM notes WHERE id = $1 AND user_id = $2', [id, ctx.user.id]);
    if (rowCount === 0) throw new HttpError(404, 'note not found');
    await cache.del(cacheKey(id));
    return { status: 204, headers: await publishEvent(events, 'note.deleted', ctx.user.email, { id, userId: ctx.user.id }) };
  });
}

const cacheKey = (id) => `note:${id}`;

function toNote(row) {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    title: row.title,
    body: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A note id from the path; anything that is not a positive integer cannot exist: 404. */
function noteId(text) {
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new HttpError(404, 'note not found');
  return Number(text);
}

/** A string field of the body; undefined when absent and not required. */
function field(input, name, { required = false, nonEmpty = false } = {}) {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(400, `${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
  if (nonEmpty && value.trim() === '') throw new HttpError(400, `${name} must not be empty`);
  return value;
}

/** An integer query parameter within [min, max], or `fallback` when absent; 400 otherwise. */
function integer(query, name, { fallback, min, max = Number.MAX_SAFE_INTEGER }) {
  const text = query.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new HttpError(400, `${name} must be an integer ${range}, got "${text}"`);
  }
  return n;
}
