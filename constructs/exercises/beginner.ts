// Checks of the beginner exercises: the shop schema in the lab database, and the learner's own
// web app (`--app-url`, default http://127.0.0.1:8080).
import { randomBytes } from 'node:crypto';
import { request, guarded, withDb } from './probe.js';
import { fail, pass, type Check } from './types.js';
import { cleanupMayFail } from '../model/quiet.js';

const APP_HINT = 'start your app so it listens on the --app-url (default http://127.0.0.1:8080), then check again';

/** pg_stat counters of a table: writes the learner made beyond the seed's inserts. */
async function writesOn(db: import('pg').Client, table: string): Promise<{ ins: number; upd: number; del: number }> {
  // Statistics reach the shared view at the end of each transaction (PostgreSQL 15 and later).
  const r = await db.query<{ ins: string; upd: string; del: string }>(
    'SELECT n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del FROM pg_stat_user_tables WHERE relname = $1',
    [table],
  );
  const row = r.rows[0];
  return { ins: Number(row?.ins ?? 0), upd: Number(row?.upd ?? 0), del: Number(row?.del ?? 0) };
}

/** Seeded customers: inserts beyond these are the learner's. */
const SEEDED_CUSTOMERS = 5;

const sqlCrud: Check[] = [
  {
    id: 'beginner-sql-crud/crud',
    title: 'a customer was inserted, updated and deleted',
    run: (ctx) =>
      guarded(
        () =>
          withDb(ctx, async (db) => {
            const w = await writesOn(db, 'customers');
            const missing = [w.ins > SEEDED_CUSTOMERS ? '' : 'INSERT', w.upd > 0 ? '' : 'UPDATE', w.del > 0 ? '' : 'DELETE'].filter(
              Boolean,
            );
            if (missing.length === 0)
              return pass(`customers: ${w.ins - SEEDED_CUSTOMERS} insert(s), ${w.upd} update(s), ${w.del} delete(s) beyond the seed`);
            return fail(`no ${missing.join(', ')} on customers yet`, 'INSERT a customer, SELECT it back, UPDATE its email, then DELETE it');
          }),
        'the lab database did not answer: `labforge health <lab>`',
      ),
  },
  {
    id: 'beginner-sql-crud/reviews-table',
    title: 'table reviews: primary key, a NOT NULL column, foreign key to products',
    run: (ctx) =>
      guarded(
        () =>
          withDb(ctx, async (db) => {
            const constraints = await db.query<{ contype: string; target: string | null }>(
              `SELECT c.contype, c.confrelid::regclass::text AS target FROM pg_constraint c WHERE c.conrelid = to_regclass('public.reviews')`,
            );
            const exists = (await db.query<{ e: boolean }>(`SELECT to_regclass('public.reviews') IS NOT NULL AS e`)).rows[0]!.e;
            if (!exists)
              return fail(
                'there is no table reviews',
                'CREATE TABLE reviews (...) with a primary key, a NOT NULL column and a foreign key to products',
              );
            const notNull = await db.query(
              `SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'public.reviews'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
               AND a.attnum <> ALL (COALESCE((SELECT conkey FROM pg_constraint WHERE conrelid = 'public.reviews'::regclass AND contype = 'p'), '{}'))`,
            );
            const gaps = [
              constraints.rows.some((c) => c.contype === 'p') ? '' : 'a primary key',
              notNull.rows.length > 0 ? '' : 'a NOT NULL column (besides the key)',
              constraints.rows.some((c) => c.contype === 'f' && c.target === 'products') ? '' : 'a foreign key to products',
            ].filter(Boolean);
            if (gaps.length === 0) return pass('reviews has a primary key, NOT NULL column(s) and a foreign key to products');
            return fail(`reviews lacks ${gaps.join(', ')}`, 'ALTER TABLE reviews ADD ... (or drop and create it again)');
          }),
        'the lab database did not answer: `labforge health <lab>`',
      ),
  },
  {
    id: 'beginner-sql-crud/join-view',
    title: 'view order_customers: each order with its customer name (a JOIN)',
    run: (ctx) =>
      guarded(
        () =>
          withDb(ctx, async (db) => {
            const view = await db.query<{ definition: string }>(
              `SELECT definition FROM pg_views WHERE schemaname = 'public' AND viewname = 'order_customers'`,
            );
            if (view.rows.length === 0)
              return fail(
                'there is no view order_customers',
                'CREATE VIEW order_customers AS SELECT ... FROM orders JOIN customers ON ...',
              );
            const def = view.rows[0]!.definition.toLowerCase();
            if (!/join/.test(def) || !def.includes('orders') || !def.includes('customers'))
              return fail(
                'order_customers does not JOIN orders and customers',
                'join orders to customers on orders.customer_id = customers.id',
              );
            const [rows, orders] = await Promise.all([
              db.query('SELECT * FROM order_customers'),
              db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders'),
            ]);
            const n = orders.rows[0]!.n;
            const names = new Set((await db.query<{ name: string }>('SELECT name FROM customers')).rows.map((r) => r.name));
            const hasName = rows.rows.every((r: Record<string, unknown>) =>
              Object.values(r).some((v) => typeof v === 'string' && names.has(v)),
            );
            if (rows.rows.length !== n)
              return fail(
                `order_customers has ${rows.rows.length} rows, orders has ${n}`,
                'one row per order: an inner join on the customer',
              );
            if (!hasName) return fail('the rows do not carry the customer name', 'select customers.name in the view');
            return pass(`order_customers lists all ${n} orders with their customer name`);
          }),
        'the lab database did not answer: `labforge health <lab>`',
      ),
  },
  {
    id: 'beginner-sql-crud/index',
    title: 'an index on orders(customer_id) that the plan uses',
    run: (ctx) =>
      guarded(
        () =>
          withDb(ctx, async (db) => {
            const idx = await db.query<{ name: string }>(
              `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = 'public.orders'::regclass AND (SELECT attname FROM pg_attribute WHERE attrelid = x.indrelid AND attnum = x.indkey[0]) = 'customer_id'`,
            );
            if (idx.rows.length === 0)
              return fail(
                'no index starts with orders.customer_id',
                'CREATE INDEX ON orders (customer_id); then compare EXPLAIN before and after',
              );
            // Six rows: the planner rightly prefers a sequential scan; forbid it to see that the index serves the query.
            await db.query('BEGIN');
            await db.query('SET LOCAL enable_seqscan = off');
            const plan = (await db.query('EXPLAIN SELECT * FROM orders WHERE customer_id = 1')).rows
              .map((r: Record<string, string>) => r['QUERY PLAN'])
              .join('\n');
            await db.query('ROLLBACK');
            const used = idx.rows.find((i) => plan.includes(i.name));
            if (!used)
              return fail(
                `the plan does not use ${idx.rows[0]!.name}:\n${plan}`,
                'ANALYZE orders; the index must be valid and on customer_id',
              );
            return pass(`${used.name} serves WHERE customer_id = ... (${plan.split('\n')[0]!.trim()})`);
          }),
        'the lab database did not answer: `labforge health <lab>`',
      ),
  },
];

const webServer: Check[] = [
  {
    id: 'beginner-web-server/hello',
    title: 'GET /hello answers 200 with JSON',
    run: (ctx) =>
      guarded(async () => {
        const r = await request(ctx, 'GET', '/hello');
        if (r.status !== 200) return fail(`GET /hello answered ${r.status}`, 'answer GET /hello with status 200');
        if (!(r.headers.get('content-type') ?? '').includes('application/json') || r.json === undefined)
          return fail('GET /hello did not answer JSON', 'send a JSON body with Content-Type: application/json');
        return pass(`GET /hello: 200 ${r.text.slice(0, 60)}`);
      }, APP_HINT),
  },
  {
    id: 'beginner-web-server/not-found',
    title: 'an unknown path answers 404',
    run: (ctx) =>
      guarded(async () => {
        const r = await request(ctx, 'GET', `/labforge-check-${randomBytes(3).toString('hex')}`);
        return r.status === 404
          ? pass('unknown path: 404')
          : fail(`an unknown path answered ${r.status}`, 'answer 404 for paths your app does not serve');
      }, APP_HINT),
  },
  {
    id: 'beginner-web-server/method',
    title: 'a wrong method on /hello answers 405',
    run: (ctx) =>
      guarded(async () => {
        const r = await request(ctx, 'DELETE', '/hello');
        return r.status === 405
          ? pass('DELETE /hello: 405')
          : fail(
              `DELETE /hello answered ${r.status}`,
              'answer 405 Method Not Allowed (with an Allow header) for methods /hello does not take',
            );
      }, APP_HINT),
  },
];

/** A product name with both quote kinds: stored as typed only through parameterised queries. */
const QUOTED = `Check's "quoted" product`;

const apiDb: Check[] = [
  {
    id: 'beginner-api-db/read',
    title: 'GET /products lists the table; GET /products/:id one row, 404 when missing',
    run: (ctx) =>
      guarded(async () => {
        const rows = await withDb(
          ctx,
          async (db) => (await db.query<{ id: string; name: string }>('SELECT id::text, name FROM products ORDER BY id')).rows,
        );
        const list = await request(ctx, 'GET', '/products');
        if (list.status !== 200 || !Array.isArray(list.json))
          return fail(
            `GET /products answered ${list.status}${Array.isArray(list.json) ? '' : ', not a JSON array'}`,
            'answer GET /products with a JSON array of the products table',
          );
        if (list.json.length !== rows.length)
          return fail(`GET /products gave ${list.json.length} items, the table has ${rows.length}`, 'list every row of products');
        const first = rows[0];
        if (first) {
          const one = await request(ctx, 'GET', `/products/${first.id}`);
          if (one.status !== 200 || !one.text.includes(first.name))
            return fail(
              `GET /products/${first.id} answered ${one.status} without '${first.name}'`,
              'answer GET /products/:id with that row',
            );
        }
        const missing = await request(ctx, 'GET', '/products/999999999');
        if (missing.status !== 404)
          return fail(`GET /products/999999999 answered ${missing.status}`, 'answer 404 when the id does not exist');
        return pass(`GET /products: ${rows.length} items; GET /products/:id: the row, 404 when missing`);
      }, APP_HINT),
  },
  {
    id: 'beginner-api-db/write',
    title: 'POST (201 + Location), PUT and DELETE /products; a name with quotes is stored as typed',
    run: (ctx) =>
      guarded(async () => {
        const json = { 'content-type': 'application/json' };
        const created = await request(ctx, 'POST', '/products', {
          body: JSON.stringify({ name: QUOTED, price_cents: 100, stock: 1 }),
          headers: json,
        });
        const location = created.headers.get('location');
        if (created.status !== 201 || !location)
          return fail(
            `POST /products answered ${created.status}${location ? '' : ' without a Location header'}`,
            'answer 201 Created with Location: /products/<id>',
          );
        const id = /\/products\/(\d+)/.exec(location)?.[1];
        if (!id) return fail(`Location '${location}' does not name /products/<id>`, 'set Location to the new row: /products/<id>');
        try {
          const stored = await withDb(
            ctx,
            async (db) => (await db.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [id])).rows[0]?.name,
          );
          if (stored !== QUOTED)
            return fail(
              `row ${id} holds ${JSON.stringify(stored)}, not ${JSON.stringify(QUOTED)}`,
              'insert with a parameterised query ($1), never by building SQL text',
            );
          const put = await request(ctx, 'PUT', `/products/${id}`, {
            body: JSON.stringify({ name: QUOTED, price_cents: 250, stock: 2 }),
            headers: json,
          });
          const price = await withDb(
            ctx,
            async (db) => (await db.query<{ p: number }>('SELECT price_cents AS p FROM products WHERE id = $1', [id])).rows[0]?.p,
          );
          if (put.status >= 300 || price !== 250)
            return fail(`PUT /products/${id} answered ${put.status}, price is now ${price}`, 'update the row from the JSON body');
          const del = await request(ctx, 'DELETE', `/products/${id}`);
          const left = await withDb(ctx, async (db) => (await db.query('SELECT 1 FROM products WHERE id = $1', [id])).rowCount);
          if (del.status >= 300 || left !== 0)
            return fail(
              `DELETE /products/${id} answered ${del.status}, the row is ${left ? 'still there' : 'gone'}`,
              'delete the row and answer 204',
            );
          return pass(`POST 201 Location ${location}, quotes stored as typed, PUT updated, DELETE removed`);
        } finally {
          await withDb(ctx, (db) => db.query('DELETE FROM products WHERE id = $1', [id])).catch(cleanupMayFail);
        }
      }, APP_HINT),
  },
];

const form = (fields: Record<string, string>) => ({
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

const authForms: Check[] = [
  {
    id: 'beginner-auth-forms/users-table',
    title: 'table users: unique email, a password hash column',
    run: (ctx) =>
      guarded(
        () =>
          withDb(ctx, async (db) => {
            const cols = (
              await db.query<{ c: string }>(
                `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'`,
              )
            ).rows.map((r) => r.c);
            if (cols.length === 0)
              return fail(
                'there is no table users',
                'CREATE TABLE users (id ..., email text UNIQUE NOT NULL, password_hash text NOT NULL)',
              );
            const unique = await db.query(
              `SELECT 1 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
               WHERE x.indrelid = 'public.users'::regclass AND x.indisunique AND x.indnatts = 1 AND a.attname = 'email'`,
            );
            const hash = cols.find((c) => /hash/i.test(c));
            const gaps = [unique.rowCount ? '' : 'a UNIQUE email', hash ? '' : 'a password hash column (its name says hash)'].filter(
              Boolean,
            );
            return gaps.length === 0
              ? pass(`users: unique email, ${hash}`)
              : fail(`users lacks ${gaps.join(' and ')}`, 'ALTER TABLE users ADD ...');
          }),
        'the lab database did not answer: `labforge health <lab>`',
      ),
  },
  {
    id: 'beginner-auth-forms/signup-login',
    title: 'form sign-up and login: 400 on missing fields, hash not plain text, 401 on a wrong password, HttpOnly cookie',
    run: (ctx) =>
      guarded(async () => {
        const email = `check-${randomBytes(4).toString('hex')}@example.com`;
        const password = `pw-${randomBytes(8).toString('hex')}`;
        try {
          const missing = await request(ctx, 'POST', '/signup', form({ email }));
          if (missing.status !== 400)
            return fail(`POST /signup without a password answered ${missing.status}`, 'answer 400 when a form field is missing');
          const signup = await request(ctx, 'POST', '/signup', form({ email, password }));
          if (signup.status >= 400)
            return fail(`POST /signup answered ${signup.status}`, 'accept application/x-www-form-urlencoded email and password');
          const row = await withDb(
            ctx,
            async (db) =>
              (await db.query<{ r: Record<string, unknown> }>('SELECT to_jsonb(u) AS r FROM users u WHERE email = $1', [email])).rows[0]?.r,
          );
          if (!row) return fail(`no users row for ${email} after sign-up`, 'insert the user on POST /signup');
          if (Object.values(row).some((v) => v === password))
            return fail('the password is stored as plain text', 'store bcrypt or scrypt of the password, never the password');
          const wrong = await request(ctx, 'POST', '/login', form({ email, password: 'wrong' }));
          if (wrong.status !== 401)
            return fail(`POST /login with a wrong password answered ${wrong.status}`, 'answer 401 on a wrong password');
          const login = await request(ctx, 'POST', '/login', form({ email, password }));
          const cookie = login.headers.get('set-cookie') ?? '';
          if (login.status >= 400 || !/httponly/i.test(cookie))
            return fail(
              `POST /login answered ${login.status}${cookie ? `, cookie '${cookie}'` : ' without a cookie'}`,
              'on success set a session cookie with HttpOnly',
            );
          return pass('sign-up stored a hash; login: 401 on a wrong password, HttpOnly session cookie on success');
        } finally {
          await withDb(ctx, (db) => db.query('DELETE FROM users WHERE email = $1', [email])).catch(cleanupMayFail);
        }
      }, APP_HINT),
  },
];

export const BEGINNER_CHECKS: Record<string, readonly Check[]> = {
  'beginner-sql-crud': sqlCrud,
  'beginner-web-server': webServer,
  'beginner-api-db': apiDb,
  'beginner-auth-forms': authForms,
};
