// The normal-user path: labforge run by an unprivileged user (through runuser when the tests run
// as root, as CI does) starts the servers as that user, with everything under a home it owns.
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNothingLeft,
  assertPrerequisites,
  cleanup,
  cli,
  ensureUser,
  IS_ROOT,
  json,
  makeHome,
  TEST_USER,
  uniqueName,
  type StatusComponent,
} from './helpers.js';

// As root: a dedicated unprivileged user; otherwise the current user already is one.
const account = IS_ROOT
  ? { name: TEST_USER, ...ensureUser(TEST_USER) }
  : { name: userInfo().username, uid: process.getuid!(), gid: process.getgid!() };
const user = IS_ROOT ? TEST_USER : undefined;
const { parent, home } = makeHome('user', IS_ROOT ? account : undefined);
const name = uniqueName('usr');

describe(`local lab run by an unprivileged user (${account.name})`, () => {
  afterAll(() => cleanup(parent, home, user));
  beforeAll(() => assertPrerequisites(true));

  let components: StatusComponent[] = [];

  it('up runs every server as that user, with data it owns, and every check passes', async () => {
    const up = await cli(['up', 'intermediate', '--name', name, '--json'], { home, user });
    expect(up.code, up.stderr).toBe(0);
    const result = json(up);
    expect(result.runAs).toMatchObject({ user: account.name, uid: account.uid, mode: 'current-user' });
    expect(result.health.every((h: { ok: boolean }) => h.ok)).toBe(true);
    components = result.components;
    for (const c of components) expect({ id: c.id, uid: statSync(`/proc/${c.pid}`).uid }).toEqual({ id: c.id, uid: account.uid });
    const dir = join(home, name);
    for (const path of [dir, join(dir, 'db', 'data'), join(dir, 'state.json')]) expect(statSync(path).uid).toBe(account.uid);
    const secrets = statSync(join(dir, 'secrets.json'));
    expect({ uid: secrets.uid, mode: (secrets.mode & 0o777).toString(8) }).toEqual({ uid: account.uid, mode: '600' });
  });

  it('the learner reaches the database with the generated password; health passes when run by that user', async () => {
    const secrets = json(await cli(['secrets', name, '--json'], { home, user }));
    const client = new pg.Client({ connectionString: secrets.urls.db });
    await client.connect();
    expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe('learner');
    await client.end();
    expect((await cli(['health', name], { home, user })).code).toBe(0);
  });

  it('down by that user leaves nothing', async () => {
    const down = await cli(['down', name, '--json'], { home, user });
    expect(down.code, down.stderr).toBe(0);
    expect(json(down).ok).toBe(true);
    await assertNothingLeft(expect, components, join(home, name));
  });
});
