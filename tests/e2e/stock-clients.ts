// The stock command-line clients a learner pastes labforge's printed URLs into, run as processes
// with the URL exactly as printed: psql, redis-cli -u, amqp-tools (--url), kcat -b, curl. Each
// returns what the server answered, so a test asserts a real round trip, not a parse.
import { spawnSync } from 'node:child_process';

const CLIENTS: Record<string, string> = {
  psql: 'apt-get install -y postgresql-client',
  'redis-cli': 'apt-get install -y redis-tools',
  'amqp-declare-queue': 'apt-get install -y amqp-tools',
  kcat: 'apt-get install -y kcat',
  curl: 'apt-get install -y curl',
};

/** Fails with what to install when a client is missing (never a silent pass). */
export function assertStockClients(...names: (keyof typeof CLIENTS)[]): void {
  for (const name of names) {
    if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) throw new Error(`${name} not found: ${CLIENTS[name]}`);
  }
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}`.trim(), err: `${r.stderr}`.trim() };
}

/** `psql URL -c 'select 1'` (the password from PGPASSWORD when the URL has none). */
export function psqlSelect(url: string, password?: string): string {
  const r = run(
    'psql',
    [url, '-XtAc', "select current_user || '@' || current_database()"],
    password === undefined ? { PGPASSWORD: '' } : { PGPASSWORD: password },
  );
  if (r.code !== 0) throw new Error(`psql ${url}: exit ${r.code}: ${r.err}`);
  return r.out;
}

/** `redis-cli -u URL PING`: PONG, or what the server said (redis-cli exits 0 even on WRONGPASS). */
export function redisCliPing(url: string): string {
  const r = run('redis-cli', ['--no-auth-warning', '-u', url, 'PING']);
  return r.code === 0 ? r.out : `exit ${r.code}: ${r.err}`;
}

/** Declares and deletes a queue through `amqp-declare-queue --url=URL`: the queue name back. */
export function amqpDeclare(url: string, queue: string): string {
  const r = run('amqp-declare-queue', [`--url=${url}`, '-q', queue]);
  if (r.code !== 0) throw new Error(`amqp-declare-queue --url=${url}: exit ${r.code}: ${r.err}`);
  run('amqp-delete-queue', [`--url=${url}`, '-q', queue]);
  return r.out;
}

/** `kcat -b LIST -L -J`: the broker ids the cluster's metadata names. */
export function kcatBrokers(bootstrap: string): number[] {
  const r = run('kcat', ['-b', bootstrap, '-L', '-J', '-m', '10']);
  if (r.code !== 0) throw new Error(`kcat -b ${bootstrap}: exit ${r.code}: ${r.err}`);
  return (JSON.parse(r.out) as { brokers: { id: number }[] }).brokers.map((b) => b.id).sort();
}

/** `curl -fsS URL`: the body. */
export function curlGet(url: string): string {
  const r = run('curl', ['-fsS', '--max-time', '10', url]);
  if (r.code !== 0) throw new Error(`curl ${url}: exit ${r.code}: ${r.err}`);
  return r.out;
}
