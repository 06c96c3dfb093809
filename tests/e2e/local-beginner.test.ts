// Beginner lab, local target, as root would run it (servers as the `labforge` user) or as the
// current user otherwise: up -> every check passes -> seeded data as the learner -> down -> proof.
import { userInfo } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNothingLeft,
  assertPrerequisites,
  cleanup,
  cli,
  IS_ROOT,
  json,
  makeHome,
  startCli,
  uniqueName,
  type StatusComponent,
} from './helpers.js';

const { parent, home } = makeHome('beginner');
const name = uniqueName('beg');

describe('local beginner lab', () => {
  // Teardown first (terratest style): whatever fails below, the lab goes away.
  afterAll(() => cleanup(parent, home));
  beforeAll(() => assertPrerequisites(false));

  let up: any;
  let components: StatusComponent[] = [];

  it('up starts PostgreSQL, waits until healthy and prints connection info and exercises', async () => {
    const result = await cli(['up', 'beginner', '--name', name, '--json'], { home });
    expect(result.code, result.stderr).toBe(0);
    up = json(result);
    expect(up.health).toEqual([expect.objectContaining({ name: 'db (postgres)', ok: true })]);
    expect(up.components).toEqual([
      expect.objectContaining({ id: 'db', kind: 'postgres', host: '127.0.0.1', user: 'learner', database: 'lab', state: 'running' }),
    ]);
    expect(up.secrets).toBe(`labforge secrets ${name}`);
    expect(up.exercises.length).toBeGreaterThan(0);
    expect(up.exercises[0].steps.length).toBeGreaterThan(0);
    // Progress went to stderr, one line per component with its state and time.
    expect(result.stderr).toMatch(/db \(postgres\)\s+started\s+127\.0\.0\.1:\d+\s+pid \d+\s+\d+\.\d+s/);
    // The password is never printed by up.
    const secrets = json(await cli(['secrets', name, '--json'], { home }));
    expect(result.stdout).not.toContain(secrets.postgres.password);
    components = up.components;
  });

  it('runs the servers as the right user, bound to loopback only', async () => {
    const status = json(await cli(['status', name, '--json'], { home }));
    expect(status.runAs).toBe(IS_ROOT ? 'labforge' : userInfo().username);
    const pid = status.components[0].pid;
    const { readFileSync, statSync } = await import('node:fs');
    if (IS_ROOT) expect(statSync(`/proc/${pid}`).uid).not.toBe(0);
    // Listening sockets of this port: only 127.0.0.1 (hex 0100007F in /proc/net/tcp).
    const port = status.components[0].port.toString(16).toUpperCase().padStart(4, '0');
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`:${port} `) && / 0A /.test(l))
      .map((l) => l.trim().split(/\s+/)[1]);
    expect(listening).toEqual([`0100007F:${port}`]);
    expect(readFileSync('/proc/net/tcp6', 'utf8')).not.toMatch(new RegExp(`:${port} [0-9A-F:]+ 0A `));
  });

  it('health --watch repeats the checks until Ctrl-C and exits with the last result', async () => {
    const { child, done } = startCli(['health', name, '--watch', '--interval', '0.3'], { home });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const rounds = result.stdout.split('\n').filter((line) => /db \(postgres\)\s+ok/.test(line));
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    expect(result.stderr.match(/^--- \d{4}-/gm)?.length).toBe(rounds.length - 1);
  });

  it('health passes and the seeded shop schema has rows, queried as the learner with the generated password', async () => {
    const health = await cli(['health', name, '--json'], { home });
    expect(health.code, health.stderr).toBe(0);
    expect(json(health).checks.every((c: { ok: boolean }) => c.ok)).toBe(true);

    const secrets = json(await cli(['secrets', name, '--json'], { home }));
    const client = new pg.Client({ connectionString: secrets.urls.db });
    await client.connect();
    try {
      const counts = await client.query(
        'SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM products)::int AS products, (SELECT count(*) FROM orders)::int AS orders',
      );
      expect(counts.rows[0].customers).toBeGreaterThan(0);
      expect(counts.rows[0].products).toBeGreaterThan(0);
      expect(counts.rows[0].orders).toBeGreaterThan(0);
      const owner = await client.query("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'");
      expect(owner.rows[0].tableowner).toBe('learner');
      const fk = await client.query(
        "SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY'",
      );
      expect(fk.rows[0].n).toBeGreaterThanOrEqual(2);
      const su = await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
      expect(su.rows[0].rolsuper).toBe(false);
    } finally {
      await client.end();
    }
    // A wrong password is refused over TCP (no trust auth).
    const wrong = new pg.Client({ connectionString: secrets.urls.db.replace(/:[^:@]+@/, ':wrong-password@') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('up of a lab that is already up is a no-op that reports health', async () => {
    const again = json(await cli(['up', 'beginner', '--name', name, '--json'], { home }));
    expect(again.alreadyUp).toBe(true);
    expect(again.components[0].pid).toBe(up.components[0].pid);
    expect(again.health[0].ok).toBe(true);
  });

  it('down stops everything, removes the data and prints a receipt; nothing is left', async () => {
    const down = await cli(['down', name, '--json'], { home });
    expect(down.code, down.stderr).toBe(0);
    const receipt = json(down);
    expect(receipt.ok).toBe(true);
    expect(receipt.leftovers).toEqual([]);
    expect(receipt.processes).toEqual([expect.objectContaining({ component: 'db', gone: true })]);
    expect(receipt.ports).toEqual([expect.objectContaining({ component: 'db', free: true })]);
    expect(receipt.directories).toEqual([expect.objectContaining({ removed: true })]);
    await assertNothingLeft(expect, components, `${home}/${name}`);
  });
});
