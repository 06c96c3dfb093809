// PostgreSQL: the connection pool and the schema, created idempotently at start.
import pg from 'pg';

/** @param {string} connectionString */
export function createPool(connectionString) {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 2000 });
  // An idle client can lose its server (restart, network); without a listener that would crash us.
  pool.on('error', (err) => console.error(`postgres: idle client error: ${err.message}`));
  return pool;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS users (
    id bigserial PRIMARY KEY,
    email text UNIQUE NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL DEFAULT 'user',
    created_at timestamptz DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS notes (
    id bigserial PRIMARY KEY,
    user_id bigint REFERENCES users(id) ON DELETE CASCADE,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS notes_user_id_created_at_idx ON notes (user_id, created_at DESC);
`;

// Any constant works; it only has to be the same in every instance of this API.
const SCHEMA_LOCK = 4242_0001;

/**
 * Create the tables. Several instances may start at once, and concurrent
 * "CREATE TABLE IF NOT EXISTS" can still collide, so one instance at a time holds the lock.
 * @param {pg.Pool} pool
 */
export async function migrate(pool) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(SCHEMA);
    await client.query('COMMIT'); // also releases the lock
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
