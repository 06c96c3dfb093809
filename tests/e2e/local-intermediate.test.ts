// Intermediate lab, local target: PostgreSQL + Redis + the starter API. up -> every check passes
// -> the exercises' starting state works (register, login, /me, notes, pagination, cache) -> down.
import { Redis } from 'ioredis';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNothingLeft, assertPrerequisites, cleanup, cli, json, makeHome, uniqueName, type StatusComponent } from './helpers.js';

const { parent, home } = makeHome('intermediate');
const name = uniqueName('int');

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('local intermediate lab', () => {
  afterAll(() => cleanup(parent, home));
  beforeAll(() => assertPrerequisites(true));

  let components: StatusComponent[] = [];
  let api = '';

  it('up starts postgres, redis and the API, and every health check passes', async () => {
    const result = await cli(['up', 'intermediate', '--name', name, '--json'], { home });
    expect(result.code, result.stderr).toBe(0);
    const up = json(result);
    expect(up.health.map((h: { name: string; ok: boolean }) => [h.name, h.ok])).toEqual([
      ['db (postgres)', true],
      ['cache (redis)', true],
      ['api (api)', true],
    ]);
    for (const id of ['db', 'cache', 'api'])
      expect(result.stderr).toMatch(new RegExp(`${id} \\(\\w+\\)\\s+started\\s+127\\.0\\.0\\.1:\\d+`));
    components = up.components;
    expect(new Set(components.map((c) => c.port)).size).toBe(3);
    api = up.components.find((c: StatusComponent) => c.kind === 'api').url;
    const health = await cli(['health', name], { home });
    expect(health.code, health.stderr).toBe(0);
  });

  it('redis requires the generated password', async () => {
    const secrets = json(await cli(['secrets', name, '--json'], { home }));
    const port = components.find((c) => c.kind === 'redis')!.port;
    // Without AUTH, a raw PING is refused.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
      socket.once('data', (d) => (socket.destroy(), resolve(d.toString())));
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
    const authed = new Redis(secrets.urls.cache, { lazyConnect: true, retryStrategy: () => null });
    await authed.connect();
    expect(await authed.ping()).toBe('PONG');
    authed.disconnect();
  });

  it('the API serves the exercises: register, login, /me, notes with pagination and a cache MISS then HIT', async () => {
    const health = await call(api, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    expect(health.headers.get('x-instance')).toBe('api-1');

    const user = { email: `${name}@example.com`, password: 'correct horse battery' };
    expect((await call(api, 'POST', '/auth/register', user)).status).toBe(201);
    const login = await call(api, 'POST', '/auth/login', user);
    expect(login.status).toBe(200);
    const token = login.body.token as string;
    expect((await call(api, 'GET', '/me')).status).toBe(401);
    const me = await call(api, 'GET', '/me', undefined, token);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);

    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await call(api, 'POST', '/notes', { title: `note ${i}`, body: 'text' }, token);
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const page = await call(api, 'GET', '/notes?limit=2&offset=0', undefined, token);
    expect(page.status).toBe(200);
    expect(page.headers.get('x-total-count')).toBe('3');
    expect(page.body.items).toHaveLength(2);

    const first = await call(api, 'GET', `/notes/${ids[0]}`, undefined, token);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await call(api, 'GET', `/notes/${ids[0]}`, undefined, token);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.body.title).toBe('note 0');

    expect((await call(api, 'PUT', `/notes/${ids[1]}`, { title: 'changed' }, token)).status).toBe(200);
    expect((await call(api, 'DELETE', `/notes/${ids[2]}`, undefined, token)).status).toBe(204);
  });

  it('down removes all three servers and their data, and the receipt proves it', async () => {
    const down = await cli(['down', name, '--json'], { home });
    expect(down.code, down.stderr).toBe(0);
    const receipt = json(down);
    expect(receipt.ok).toBe(true);
    expect(receipt.processes.map((p: { component: string; gone: boolean }) => [p.component, p.gone]).sort()).toEqual([
      ['api', true],
      ['cache', true],
      ['db', true],
    ]);
    expect(receipt.ports.every((p: { free: boolean }) => p.free)).toBe(true);
    await assertNothingLeft(expect, components, `${home}/${name}`);
  });
});
