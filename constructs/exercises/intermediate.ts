// Checks of the intermediate exercises. The learner runs their own API (the starter API of
// templates/api, extended) at `--app-url` on the lab's PostgreSQL and Redis; the checks call it,
// read the lab database and Redis, and look at files in `--workdir`. Each check asks for what the
// starter API does not already do (an admin route, tags, problem errors...), and removes the
// accounts, rows, keys and files it made. The user API and schema checks are here; middleware and
// the external service in intermediate-web.ts, Git and CI in intermediate-repo.ts.
import { withDb } from './probe.js';
import { pass, type Check, type CheckContext } from './types.js';
import { call, checked, DB_HINT, dropAccounts, hex, need, show, signUp, withRedis } from './intermediate-support.js';
import { EXTERNAL_CHECKS, MIDDLEWARE_CHECKS } from './intermediate-web.js';
import { GIT_CI_CHECKS } from './intermediate-repo.js';
import { cleanupMayFail } from '../model/quiet.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64 = (part: string | undefined): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** The items of a list reply: a JSON array, or `{items | users | data: [...]}`. */
function itemsOf(json: unknown): Record<string, unknown>[] | undefined {
  const list = Array.isArray(json)
    ? json
    : ((json as Record<string, unknown> | undefined)?.items ??
      (json as Record<string, unknown> | undefined)?.users ??
      (json as Record<string, unknown> | undefined)?.data);
  return Array.isArray(list) ? (list as Record<string, unknown>[]) : undefined;
}

const countUsers = (ctx: CheckContext) =>
  withDb(ctx, async (db) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n);

const userApi: Check[] = [
  {
    id: 'intermediate-user-api/jwt',
    title: 'register (201, 409 when taken), login gives a JWT; GET /me: 200 with it, 401 without, tampered or alg none',
    run: (ctx) =>
      checked(async () => {
        const made: string[] = [];
        try {
          const a = await signUp(ctx, made);
          const again = await call(ctx, 'POST', '/auth/register', { json: { email: a.email, password: a.password } });
          need(
            again.status === 409,
            `registering ${a.email} twice answered ${show(again)}`,
            'answer 409 Conflict when the email is taken (the unique violation, 23505)',
          );
          const [header, payload, signature] = a.token.split('.');
          const claims = unb64(payload);
          need(
            unb64(header)?.alg && claims && signature,
            `the login token is not a JWT: ${a.token.slice(0, 40)}`,
            'sign header.payload.signature (HS256) as the starter API does (lib/jwt.mjs)',
          );
          const me = await call(ctx, 'GET', '/me', { token: a.token });
          need(
            me.status === 200 && me.text.includes(a.email),
            `GET /me with the token answered ${show(me)}`,
            'answer GET /me with the caller {id, email, role}',
          );
          const bare = await call(ctx, 'GET', '/me');
          need(
            bare.status === 401,
            `GET /me without Authorization answered ${show(bare)}`,
            'answer 401 (with WWW-Authenticate: Bearer) when there is no token',
          );
          const forged = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
          const tampered = await call(ctx, 'GET', '/me', { token: forged });
          need(
            tampered.status === 401,
            `GET /me with the payload changed to role admin answered ${show(tampered)}`,
            'verify the signature of every token, and refuse it when it does not match',
          );
          const none = await call(ctx, 'GET', '/me', { token: `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.` });
          need(
            none.status === 401,
            `GET /me with an unsigned "alg": "none" token answered ${show(none)}`,
            'accept only the algorithm you sign with (HS256), never the one the token names',
          );
          return pass('register 201 then 409; GET /me: 200 with the JWT, 401 without, with a forged payload and with alg none');
        } finally {
          await dropAccounts(ctx, made);
        }
      }),
  },
  {
    id: 'intermediate-user-api/admin',
    title: 'GET /users: 401 without a token, 403 for a user, 200 for an admin, no password hashes',
    run: (ctx) =>
      checked(async () => {
        const made: string[] = [];
        try {
          const user = await signUp(ctx, made);
          const admin = await signUp(ctx, made, 'admin');
          const anon = await call(ctx, 'GET', '/users');
          need(
            anon.status === 401,
            `GET /users without a token answered ${show(anon)}`,
            'GET /users needs a Bearer token: 401 without one',
          );
          const denied = await call(ctx, 'GET', '/users', { token: user.token });
          need(
            denied.status === 403,
            `GET /users as a user (role 'user') answered ${show(denied)}`,
            "answer 403 Forbidden unless the caller's role is 'admin' (users.role)",
          );
          const list = await call(ctx, 'GET', '/users?limit=100', { token: admin.token });
          const items = itemsOf(list.json);
          need(
            list.status === 200 && items,
            `GET /users as an admin answered ${show(list)}`,
            'answer admins 200 with a JSON list of users (an array, or {items: [...]})',
          );
          const emails = items.map((u) => u.email);
          need(
            emails.includes(user.email) && emails.includes(admin.email),
            `GET /users?limit=100 as an admin lists ${items.length} users, without the two the check just registered`,
            'list the users of the lab database (newest first, or at least the first 100)',
          );
          const leak = items.find((u) => Object.keys(u).some((k) => /pass|hash/i.test(k)));
          need(!leak, `GET /users shows ${Object.keys(leak ?? {}).join(', ')}`, 'never send password hashes: select id, email, role only');
          return pass(`GET /users: 401 without a token, 403 for a user, 200 for an admin (${items.length} users, no hashes)`);
        } finally {
          await dropAccounts(ctx, made);
        }
      }),
  },
  {
    id: 'intermediate-user-api/pagination',
    title: 'GET /users?limit=&offset=: pages of the users, the total in X-Total-Count, 400 for a bad limit',
    run: (ctx) =>
      checked(async () => {
        const made: string[] = [];
        try {
          await signUp(ctx, made);
          const admin = await signUp(ctx, made, 'admin');
          const before = await countUsers(ctx);
          const [first, second] = [
            await call(ctx, 'GET', '/users?limit=1&offset=0', { token: admin.token }),
            await call(ctx, 'GET', '/users?limit=1&offset=1', { token: admin.token }),
          ];
          const after = await countUsers(ctx);
          const [a, b] = [itemsOf(first.json), itemsOf(second.json)];
          need(
            first.status === 200 && second.status === 200,
            `GET /users?limit=1&offset=${first.status === 200 ? 1 : 0} as an admin answered ${show(first.status === 200 ? second : first)}`,
            'add GET /users for admins (intermediate-user-api step 4), then its limit and offset',
          );
          need(
            a?.length === 1 && b?.length === 1,
            `GET /users?limit=1 answered ${show(first)}; with offset=1 ${show(second)}`,
            'return exactly `limit` users, starting at `offset`',
          );
          need(
            a[0]!.email !== b[0]!.email,
            `offset=0 and offset=1 both give ${String(a[0]!.email)}`,
            'apply OFFSET with a stable ORDER BY (e.g. id)',
          );
          const total = Number(first.headers.get('x-total-count'));
          need(
            total >= before && total <= after,
            `X-Total-Count is ${first.headers.get('x-total-count') ?? 'missing'}, the users table has ${after} rows`,
            'send the total row count (SELECT count(*)) in an X-Total-Count header',
          );
          const bad = await call(ctx, 'GET', '/users?limit=abc', { token: admin.token });
          need(bad.status === 400, `GET /users?limit=abc answered ${show(bad)}`, 'answer 400 when limit is not an integer from 1 to 100');
          return pass(`limit/offset page through ${total} users (X-Total-Count: ${total}); limit=abc: 400`);
        } finally {
          await dropAccounts(ctx, made);
        }
      }),
  },
];

interface Constraint {
  readonly type: string;
  readonly target: string | null;
  readonly cols: string[];
}

const schema: Check[] = [
  {
    id: 'intermediate-schema/tags',
    title: 'tags (unique name) and note_tags: foreign keys to notes and tags, a unique (note_id, tag_id) pair',
    run: (ctx) =>
      checked(
        () =>
          withDb(ctx, async (db) => {
            const exists = (
              await db.query<{ t: boolean; n: boolean }>(
                `SELECT to_regclass('public.tags') IS NOT NULL AS t, to_regclass('public.note_tags') IS NOT NULL AS n`,
              )
            ).rows[0]!;
            need(
              exists.t && exists.n,
              `there is no table ${[exists.t ? '' : 'tags', exists.n ? '' : 'note_tags'].filter(Boolean).join(' nor ')}`,
              'CREATE TABLE tags (id ..., name text NOT NULL UNIQUE) and note_tags (note_id ... REFERENCES notes, tag_id ... REFERENCES tags, PRIMARY KEY (note_id, tag_id))',
            );
            const constraints = (
              await db.query<Constraint>(
                `SELECT c.contype AS type, c.confrelid::regclass::text AS target,
                   ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey) ORDER BY attname) AS cols
                 FROM pg_constraint c WHERE c.conrelid = 'public.note_tags'::regclass`,
              )
            ).rows;
            const fk = (table: string, col: string) =>
              constraints.some((c) => c.type === 'f' && c.target === table && c.cols.join() === col);
            const pair = constraints.some((c) => (c.type === 'p' || c.type === 'u') && c.cols.join() === 'note_id,tag_id');
            const gaps = [
              fk('notes', 'note_id') ? '' : 'a foreign key note_id -> notes',
              fk('tags', 'tag_id') ? '' : 'a foreign key tag_id -> tags',
              pair ? '' : 'a unique (note_id, tag_id) pair',
            ].filter(Boolean);
            need(
              gaps.length === 0,
              `note_tags lacks ${gaps.join(', ')}`,
              'ALTER TABLE note_tags ADD FOREIGN KEY ... / ADD PRIMARY KEY (note_id, tag_id)',
            );
            const unique = await db.query(
              `SELECT 1 FROM pg_index x WHERE x.indrelid = 'public.tags'::regclass AND x.indisunique AND x.indnatts = 1
                 AND (x.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = x.indrelid AND attname = 'name') OR (x.indkey[0] = 0 AND pg_get_indexdef(x.indexrelid) LIKE '%name%'))`,
            );
            need(unique.rowCount, 'tags.name is not unique: the same tag can exist twice', 'ALTER TABLE tags ADD UNIQUE (name)');
            return pass('note_tags: foreign keys to notes and tags, unique (note_id, tag_id); tags.name unique');
          }),
        DB_HINT,
      ),
  },
  {
    id: 'intermediate-schema/index',
    title: 'an index starting with note_tags.tag_id serves "the notes with one tag, newest first" (EXPLAIN)',
    run: (ctx) =>
      checked(
        () =>
          withDb(ctx, async (db) => {
            need(
              (await db.query<{ e: boolean }>(`SELECT to_regclass('public.note_tags') IS NOT NULL AS e`)).rows[0]!.e,
              'there is no table note_tags',
              'create the tags tables first (intermediate-schema step 1)',
            );
            const idx = await db.query<{ name: string }>(
              `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = 'public.note_tags'::regclass AND (SELECT attname FROM pg_attribute WHERE attrelid = x.indrelid AND attnum = x.indkey[0]) = 'tag_id'`,
            );
            need(
              idx.rows.length > 0,
              'no index of note_tags starts with tag_id: the (note_id, tag_id) key cannot serve WHERE tag_id = ...',
              'EXPLAIN ANALYZE the query, then CREATE INDEX ON note_tags (tag_id, note_id) and measure again',
            );
            // A lab holds few rows, so the planner rightly scans them; forbid that to see the index serve the query.
            await db.query('BEGIN');
            await db.query('SET LOCAL enable_seqscan = off');
            const explain = await db.query(
              'EXPLAIN SELECT n.* FROM notes n JOIN note_tags nt ON nt.note_id = n.id WHERE nt.tag_id = 1 ORDER BY n.created_at DESC LIMIT 20',
            );
            await db.query('ROLLBACK');
            const plan = explain.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
            const used = idx.rows.find((i) => plan.includes(i.name));
            need(
              used,
              `the plan does not use ${idx.rows.map((i) => i.name).join(' or ')}:\n${plan}`,
              'ANALYZE note_tags; the index must be valid and start with tag_id',
            );
            return pass(
              `${used.name} serves the notes of one tag (${plan
                .split('\n')
                .find((l) => l.includes(used.name))!
                .trim()})`,
            );
          }),
        DB_HINT,
      ),
  },
  {
    id: 'intermediate-schema/cache',
    title: 'GET /notes/:id with its tags cached in the lab Redis: X-Cache MISS then HIT, key note:<id> with a TTL, a new tag clears it',
    run: (ctx) =>
      checked(async () => {
        const made: string[] = [];
        const names = [`labforge-check-${hex(3)}`, `labforge-check-${hex(3)}`];
        let key = '';
        try {
          const a = await signUp(ctx, made);
          const created = await call(ctx, 'POST', '/notes', { json: { title: 'labforge check' }, token: a.token });
          const id =
            (created.json as { id?: string | number } | undefined)?.id ?? /\/notes\/(\d+)/.exec(created.headers.get('location') ?? '')?.[1];
          need(
            created.status === 201 && id !== undefined,
            `POST /notes answered ${show(created)}`,
            'keep POST /notes {title} of the starter API (201 {id, ...})',
          );
          key = `note:${id}`;
          const tag = async (name: string) => {
            const r = await call(ctx, 'POST', `/notes/${id}/tags`, { json: { name }, token: a.token });
            need(
              r.status >= 200 && r.status < 300,
              `POST /notes/${id}/tags {name} answered ${show(r)}`,
              'add POST /notes/:id/tags {name}: find or create the tag, link it to the note (note_tags), 201',
            );
          };
          const read = async () => {
            const r = await call(ctx, 'GET', `/notes/${id}`, { token: a.token });
            const tags = (r.json as { tags?: unknown } | undefined)?.tags;
            const list = Array.isArray(tags) ? tags.map((t) => (typeof t === 'string' ? t : (t as { name?: unknown })?.name)) : undefined;
            need(
              r.status === 200 && list,
              `GET /notes/${id} answered ${show(r)}`,
              "answer GET /notes/:id with the note and its tags: {..., tags: ['name', ...]}",
            );
            return { cache: r.headers.get('x-cache'), tags: list };
          };
          await tag(names[0]!);
          await withRedis(ctx, (redis) => redis.del(key));
          const first = await read();
          need(
            first.tags.includes(names[0]),
            `GET /notes/${id} lists tags ${JSON.stringify(first.tags)}, not the one just added`,
            "join note_tags and tags to list the note's tags",
          );
          need(
            first.cache === 'MISS',
            `the first GET (${key} not in Redis) says X-Cache: ${first.cache ?? 'nothing'}`,
            'say X-Cache: MISS when the reply comes from PostgreSQL',
          );
          const second = await read();
          need(
            second.cache === 'HIT',
            `the second GET says X-Cache: ${second.cache ?? 'nothing'}`,
            `store the reply in the lab Redis (REDIS_URL from \`labforge secrets <lab>\`) as ${key} and serve it from there: X-Cache: HIT`,
          );
          const ttl = await withRedis(ctx, (redis) => redis.ttl(key));
          need(
            ttl > 0,
            ttl === -2 ? `the lab Redis has no key ${key}` : `${key} has no TTL (it never expires)`,
            ttl === -2 ? 'cache in the lab Redis, under note:<id>' : 'SET the key with EX seconds',
          );
          await tag(names[1]!);
          const third = await read();
          need(
            names.every((n) => third.tags.includes(n)),
            `after a second tag, GET /notes/${id} still shows ${JSON.stringify(third.tags)} (X-Cache: ${third.cache ?? 'nothing'})`,
            `delete ${key} when the note's tags change`,
          );
          return pass(`GET /notes/${id}: MISS, then HIT from ${key} (TTL ${ttl} s); a new tag cleared it`);
        } finally {
          await dropAccounts(ctx, made);
          await withDb(ctx, (db) => db.query('DELETE FROM tags WHERE name = ANY($1)', [names])).catch(cleanupMayFail);
          if (key) await withRedis(ctx, (redis) => redis.del(key)).catch(cleanupMayFail);
        }
      }),
  },
];

export const INTERMEDIATE_CHECKS: Record<string, readonly Check[]> = {
  'intermediate-user-api': userApi,
  'intermediate-schema': schema,
  'intermediate-middleware': MIDDLEWARE_CHECKS,
  'intermediate-external': EXTERNAL_CHECKS,
  'intermediate-git-ci': GIT_CI_CHECKS,
};
