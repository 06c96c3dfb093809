// The locally built postgres:17 image keeps the official image's contract: two containers,
// one as the image's postgres user with POSTGRES_PASSWORD/USER/DB from the environment, one as
// an arbitrary uid (no passwd entry: nss_wrapper) with POSTGRES_PASSWORD_FILE and
// POSTGRES_USER_FILE from a Secret-like file; both read-only root, tmpfs data/run/tmp, init
// scripts of every kind from a ConfigMap-like mount. The host logs in with psql over TCP.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtImage,
  processIds,
  removeUnpacked,
  requireTools,
  rootIsReadOnly,
  run,
  RUNTIME_TOOLS,
  startContainer,
  sweepStale,
  unpack,
  waitFor,
  type Container,
  type UnpackedImage,
} from './images-runtime.js';

const INIT = '/docker-entrypoint-initdb.d';
const INIT_FILES = {
  [`${INIT}/01-schema.sql`]: {
    content: "CREATE TABLE lab_items (id serial PRIMARY KEY, source text NOT NULL);\nINSERT INTO lab_items (source) VALUES ('sql');\n",
  },
  // Not executable: sourced, so it may call the entrypoint's functions.
  [`${INIT}/02-sourced.sh`]: { content: `docker_process_sql <<<"INSERT INTO lab_items (source) VALUES ('sourced-sh');"\n` },
  [`${INIT}/03-run.sh`]: {
    content:
      '#!/bin/sh\nset -e\npsql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "INSERT INTO lab_items (source) VALUES (\'executable-sh\')"\n',
    mode: 0o755,
  },
  [`${INIT}/04-more.sql.gz`]: { content: gzipSync("INSERT INTO lab_items (source) VALUES ('sql-gz');\n") },
  [`${INIT}/05-notes.txt`]: { content: 'not a script: ignored\n' },
};
const SCRATCH = ['/var/lib/postgresql/data', '/var/run/postgresql', '/tmp'];
const PGDATA = '/var/lib/postgresql/data/pgdata';

describe('local image postgres:17', () => {
  let unpacked: UnpackedImage | undefined;
  const containers: Container[] = [];
  let byEnv: Container;
  let byFile: Container;
  const envPassword = `env-${Math.random().toString(36).slice(2)}`;
  const filePassword = `file-${Math.random().toString(36).slice(2)}`;

  afterAll(async () => {
    for (const c of containers) await c.stop();
    await removeUnpacked(unpacked);
  });

  beforeAll(async () => {
    requireTools({ ...RUNTIME_TOOLS, psql: 'apt-get install -y postgresql-client (scripts/setup.sh installs postgresql)' });
    await sweepStale();
    unpacked = await unpack(builtImage('postgres'));
    const ready = (c: Container, user: string, password: string, db: string) => async () =>
      (await run('psql', [`postgresql://${user}:${password}@${c.ip}:5432/${db}`, '-tAc', 'SELECT 1'])).stdout.trim() === '1';

    byEnv = await startContainer(unpacked, {
      name: 'db-0',
      user: { uid: 999, gid: 999 },
      env: { POSTGRES_PASSWORD: envPassword, POSTGRES_USER: 'labuser', POSTGRES_DB: 'labdb', PGDATA },
      scratch: SCRATCH,
      files: INIT_FILES,
    });
    containers.push(byEnv);
    byFile = await startContainer(unpacked, {
      name: 'db-1',
      user: { uid: 70123, gid: 70123 },
      env: {
        POSTGRES_PASSWORD_FILE: '/run/secrets/db/password',
        POSTGRES_USER_FILE: '/run/secrets/db/user',
        POSTGRES_DB: 'filedb',
        PGDATA,
      },
      scratch: SCRATCH,
      files: {
        ...INIT_FILES,
        '/run/secrets/db/password': { content: `${filePassword}\n` },
        '/run/secrets/db/user': { content: 'fileuser' },
      },
    });
    containers.push(byFile);
    await Promise.all([
      waitFor('psql login', byEnv, ready(byEnv, 'labuser', envPassword, 'labdb'), 60_000),
      waitFor('psql login', byFile, ready(byFile, 'fileuser', filePassword, 'filedb'), 60_000),
    ]);
  });

  const psql = (c: Container, url: string, sql: string) => run('psql', [url.replace('HOST', c.ip), '-tAc', sql]);

  it('logs in with POSTGRES_USER/POSTGRES_PASSWORD from the environment, after every init script ran', async () => {
    const result = await psql(
      byEnv,
      `postgresql://labuser:${envPassword}@HOST:5432/labdb`,
      "SELECT current_user || ' ' || current_database() || ' ' || string_agg(source, ',' ORDER BY id) FROM lab_items",
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('labuser labdb sql,sourced-sh,executable-sh,sql-gz');
    expect(byEnv.logs()).toContain(`ignoring ${INIT}/05-notes.txt`);
    expect(byEnv.logs()).toContain('PostgreSQL init process complete; ready for start up.');
  });

  it('refuses a wrong password over TCP (scram-sha-256 for every host)', async () => {
    const result = await psql(byEnv, 'postgresql://labuser:wrong@HOST:5432/labdb', 'SELECT 1');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('password authentication failed for user "labuser"');
    const hba = await byEnv.exec(['sh', '-c', `tail -n 1 ${PGDATA}/pg_hba.conf`]);
    expect(hba.stdout.trim()).toBe('host all all all scram-sha-256');
  });

  it('takes the user and password from *_FILE and runs as an arbitrary uid without a passwd entry', async () => {
    const result = await psql(
      byFile,
      `postgresql://fileuser:${filePassword}@HOST:5432/filedb`,
      "SELECT current_user || ' ' || count(*) FROM lab_items GROUP BY current_user",
    );
    expect(result.stdout.trim()).toBe('fileuser 4');
    expect(processIds(await byFile.pid())).toEqual({ uid: 70123, gid: 70123 });
    // The password never reached the server's arguments or environment.
    expect((await byFile.exec(['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "'])).stdout).not.toContain(filePassword);
  });

  it("answers the manifests' readiness probe (pg_isready on PATH) and keeps its root filesystem read-only", async () => {
    const probe = await byEnv.exec(['sh', '-c', 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"']);
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout).toContain('accepting connections');
    const write = await rootIsReadOnly(byEnv);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
    const settings = await psql(
      byEnv,
      `postgresql://labuser:${envPassword}@HOST:5432/labdb`,
      "SELECT current_setting('listen_addresses') || ' ' || datcollate || ' ' || version() FROM pg_database WHERE datname = current_database()",
    );
    expect(settings.stdout).toMatch(/^\* en_US\.utf8 PostgreSQL 17\./);
  });
});
