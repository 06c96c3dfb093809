// Reference solutions of the beginner exercises (kept in tests, not shipped to learners): the
// SQL a learner runs, and a small learner app (node:http + pg) that does what the exercises ask.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pg from 'pg';

export async function solveSql(url: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(
      "INSERT INTO customers (name, email) VALUES ('Katherine Johnson', 'katherine@example.com') RETURNING id",
    );
    await db.query('SELECT * FROM customers WHERE id = $1', [rows[0]!.id]);
    await db.query("UPDATE customers SET email = 'kj@example.com' WHERE id = $1", [rows[0]!.id]);
    await db.query('DELETE FROM customers WHERE id = $1', [rows[0]!.id]);
    await db.query(`CREATE TABLE reviews (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      product_id bigint NOT NULL REFERENCES products (id),
      stars integer NOT NULL CHECK (stars BETWEEN 1 AND 5),
      body text)`);
    await db.query(
      'CREATE VIEW order_customers AS SELECT o.id AS order_id, o.status, c.name AS customer FROM orders o JOIN customers c ON c.id = o.customer_id',
    );
    await db.query('CREATE INDEX orders_customer_id_idx ON orders (customer_id)');
    await db.query('ANALYZE orders');
    await db.query(`CREATE TABLE users (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL UNIQUE,
      password_hash text NOT NULL)`);
  } finally {
    await db.end();
  }
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

function send(res: ServerResponse, status: number, value?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...(value === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
  res.end(value === undefined ? undefined : JSON.stringify(value));
}

function hash(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

function verify(password: string, stored: string): boolean {
  const [, salt, digest] = stored.split('$');
  return timingSafeEqual(scryptSync(password, Buffer.from(salt!, 'hex'), 32), Buffer.from(digest!, 'hex'));
}

/** The learner's app on 127.0.0.1:`port`, using the lab database. */
export async function startApp(url: string, port: number): Promise<Server> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const id = /^\/products\/(\d+)$/.exec(path)?.[1];
      if (path === '/hello')
        return req.method === 'GET'
          ? send(res, 200, { hello: 'world' })
          : send(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      if (path === '/products' && req.method === 'GET')
        return send(res, 200, (await pool.query('SELECT * FROM products ORDER BY id')).rows);
      if (path === '/products' && req.method === 'POST') {
        const p = JSON.parse(await body(req)) as { name: string; price_cents: number; stock: number };
        const r = await pool.query('INSERT INTO products (name, price_cents, stock) VALUES ($1, $2, $3) RETURNING id', [
          p.name,
          p.price_cents,
          p.stock,
        ]);
        return send(res, 201, { id: r.rows[0].id }, { location: `/products/${r.rows[0].id}` });
      }
      if (id && req.method === 'GET') {
        const r = await pool.query('SELECT * FROM products WHERE id = $1', [id]);
        return r.rowCount ? send(res, 200, r.rows[0]) : send(res, 404, { error: 'not found' });
      }
      if (id && req.method === 'PUT') {
        const p = JSON.parse(await body(req)) as { name: string; price_cents: number; stock: number };
        const r = await pool.query('UPDATE products SET name = $1, price_cents = $2, stock = $3 WHERE id = $4', [
          p.name,
          p.price_cents,
          p.stock,
          id,
        ]);
        return r.rowCount ? send(res, 200, { id }) : send(res, 404, { error: 'not found' });
      }
      if (id && req.method === 'DELETE') {
        const r = await pool.query('DELETE FROM products WHERE id = $1', [id]);
        return r.rowCount ? send(res, 204) : send(res, 404, { error: 'not found' });
      }
      if ((path === '/signup' || path === '/login') && req.method === 'POST') {
        const form = new URLSearchParams(await body(req));
        const [email, password] = [form.get('email'), form.get('password')];
        if (!email || !password) return send(res, 400, { error: 'email and password are required' });
        if (path === '/signup') {
          await pool.query('INSERT INTO users (email, password_hash) VALUES ($1, $2)', [email, hash(password)]);
          return send(res, 201, { email });
        }
        const r = await pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email]);
        if (!r.rows[0] || !verify(password, r.rows[0].password_hash)) return send(res, 401, { error: 'wrong email or password' });
        return send(res, 200, { email }, { 'set-cookie': `session=${randomBytes(16).toString('hex')}; HttpOnly; SameSite=Lax; Path=/` });
      }
      return send(res, 404, { error: 'not found' });
    } catch (error) {
      return send(res, 500, { error: (error as Error).message });
    }
  });
  server.on('close', () => void pool.end());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
