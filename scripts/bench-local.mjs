// Local-target figures for `npm run bench`: `up` to healthy and `down`, against the floor of
// the same PostgreSQL started by hand (initdb + pg_ctl start -w).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(label, command, args, options = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${(r.stderr || '').slice(0, 800)}`);
  return ms;
}

function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found: run scripts/setup.sh (apt-get install -y postgresql)');
  return join(base, versions[0], 'bin');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The floor: a bare initdb + pg_ctl start -w of the same server, as an unprivileged user. */
async function postgresFloorOnce() {
  const bin = pgBinDir();
  const asRoot = process.getuid() === 0;
  // As root, run as the user labforge itself creates for its servers.
  const user = 'labforge';
  if (asRoot && spawnSync('id', ['-u', user]).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  }
  const uid = asRoot ? Number(execFileSync('id', ['-u', user], { encoding: 'utf8' })) : undefined;
  const gid = asRoot ? Number(execFileSync('id', ['-g', user], { encoding: 'utf8' })) : undefined;
  {
    const dir = mkdtempSync(join(tmpdir(), 'lf-floor-'));
    if (asRoot) chownSync(dir, uid, gid);
    const port = await freePort();
    const opts = { uid, gid, cwd: dir };
    const init = timed('initdb', join(bin, 'initdb'), ['-D', join(dir, 'pg'), '-U', 'postgres', '--auth=trust', '-N'], opts);
    const start = timed(
      'pg_ctl start',
      join(bin, 'pg_ctl'),
      ['-D', join(dir, 'pg'), '-l', join(dir, 'log'), '-o', `-k ${dir} -h 127.0.0.1 -p ${port}`, '-w', 'start'],
      opts,
    );
    timed('pg_ctl stop', join(bin, 'pg_ctl'), ['-D', join(dir, 'pg'), '-m', 'immediate', 'stop'], opts);
    rmSync(dir, { recursive: true, force: true });
    return init + start;
  }
}

/** Sum of RSS (MiB) of every process working inside `dir`: servers, their backends and helpers. */
export function rssUnder(dir) {
  let kib = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) continue;
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return kib / 1024;
}

/** `up` to healthy, then `down`, of one level in a throwaway LABFORGE_HOME. */
function upDownOnce(bin, level, extraArgs = []) {
  {
    const home = mkdtempSync(join(tmpdir(), 'lf-bench-home-'));
    const env = { ...process.env, LABFORGE_HOME: home };
    const name = `bench-${level.slice(0, 3)}`;
    try {
      const up = timed(`up ${level}`, process.execPath, [bin, 'up', level, '--name', name, '--json', ...extraArgs], { env });
      const rssMiB = rssUnder(home);
      const down = timed(`down ${level}`, process.execPath, [bin, 'down', name], { env });
      return { up, down, rssMiB };
    } finally {
      spawnSync(process.execPath, [bin, 'down', name], { env });
      rmSync(home, { recursive: true, force: true });
    }
  }
}

/** Levels timed besides beginner and intermediate, with their targets (issue 5). */
const HEAVY_LEVELS = [
  { level: 'advanced', upTarget: '≤ 20 s', rssTarget: '' },
  { level: 'expert', upTarget: '≤ 30 s', rssTarget: 'target ≤ 3 GiB' },
];

export async function localBenchmarks({ bin, runs }) {
  // Floor and `up` alternate within each round, so a change of machine load hits both alike.
  const floors = [];
  const runsOf = { beginner: [], intermediate: [] };
  for (let i = 0; i < runs; i++) {
    floors.push(await postgresFloorOnce());
    for (const level of Object.keys(runsOf)) runsOf[level].push(upDownOnce(bin, level));
  }
  // Heavier labs take several seconds each: three rounds are enough for a median.
  for (const { level } of HEAVY_LEVELS) {
    runsOf[level] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) runsOf[level].push(upDownOnce(bin, level));
  }
  const floor = median(floors);
  const stat = (level, key) => median(runsOf[level].map((r) => r[key]));
  process.stderr.write(`postgres floor (initdb + pg_ctl start -w): median ${floor.toFixed(0)} ms\n`);
  for (const level of Object.keys(runsOf)) {
    process.stderr.write(
      `local ${level}: up ${stat(level, 'up').toFixed(0)} ms, down ${stat(level, 'down').toFixed(0)} ms, RSS ${stat(level, 'rssMiB').toFixed(0)} MiB\n`,
    );
  }
  const rss = (level) => `RSS after up: ${stat(level, 'rssMiB').toFixed(0)} MiB`;
  return [
    { what: 'floor: bare `initdb` + `pg_ctl start -w`', ms: floor, target: '' },
    {
      what: '`labforge up beginner` → healthy',
      ms: stat('beginner', 'up'),
      target: `≤ 1.5× floor: ${(stat('beginner', 'up') / floor).toFixed(2)}×; ${rss('beginner')}`,
    },
    { what: '`labforge down` (beginner)', ms: stat('beginner', 'down'), target: '≤ 1 s' },
    { what: '`labforge up intermediate` → healthy', ms: stat('intermediate', 'up'), target: `≤ 3 s; ${rss('intermediate')}` },
    { what: '`labforge down` (intermediate)', ms: stat('intermediate', 'down'), target: '≤ 1 s' },
    ...HEAVY_LEVELS.flatMap(({ level, upTarget, rssTarget }) => [
      {
        what: `\`labforge up ${level}\` → healthy`,
        ms: stat(level, 'up'),
        target: `${upTarget}; ${rss(level)}${rssTarget ? ` (${rssTarget})` : ''}`,
      },
      { what: `\`labforge down\` (${level})`, ms: stat(level, 'down'), target: '≤ 2 s' },
    ]),
  ];
}
