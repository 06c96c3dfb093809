// `labforge up advanced --rabbitmq-management`, through the built CLI against real servers: the
// management API answers on 127.0.0.1 only, with the learner's password only; the flag is
// remembered by a later plain `up`; `down` proves its port free. And the flag is refused, with
// nothing created, for a level without RabbitMQ.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../constructs/local/binaries.js';
import { assertPrerequisites, cleanup, cli, json, makeHome, portAccepts, portBindable, uniqueName } from './helpers.js';

const { parent, home } = makeHome('mqmgmt');
const name = uniqueName('mgmt');
const labDir = join(home, name);

/** host:port pairs listening (state 0A) on `port` over IPv4 and IPv6, from /proc/net/tcp{,6}. */
function listenersOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].flatMap((file) =>
    readFileSync(`/proc/net/${file}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
      .map((f) => `${file} ${f[1]}`),
  );
}

async function overview(base: string, auth?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/overview`, {
    headers: { connection: 'close', ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}) },
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

describe('local advanced lab with --rabbitmq-management', () => {
  // Teardown before the lab exists: whatever fails below, nothing is left running.
  afterAll(() => cleanup(parent, home));
  beforeAll(() => {
    assertPrerequisites(true);
    for (const bin of ['rabbitmq-server', 'epmd', 'haproxy']) {
      if (!findBinary(bin)) throw new Error(`${bin} not found; install with: apt-get install -y rabbitmq-server haproxy`);
    }
  });

  let management = 0;
  let base = '';
  let password = '';

  it('up starts RabbitMQ with its management API on a recorded extra port, health proves it, up prints its URL', async () => {
    const result = await cli(['up', 'advanced', '--name', name, '--rabbitmq-management'], { home, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const status = json(await cli(['status', name, '--json'], { home }));
    const mq = status.components.find((c: { id: string }) => c.id === 'mq');
    expect(mq.ports.map((p: { name: string }) => p.name)).toEqual(['port', 'dist', 'epmd', 'management']);
    management = mq.ports.find((p: { name: string }) => p.name === 'management').port;
    base = `http://127.0.0.1:${management}`;
    expect(mq.links).toEqual([{ name: 'management', url: `${base}/` }]);
    expect(result.stdout).toContain(`mq (rabbitmq) management: ${base}/`);
    password = json(await cli(['secrets', name, '--json'], { home })).rabbitmq.password;
    expect(result.stdout).not.toContain(password);
    const health = json(await cli(['health', name, '--json'], { home }));
    const check = health.checks.find((c: { name: string }) => c.name === 'mq (rabbitmq management)');
    expect(check).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^GET \/api\/overview as learner .*: 200 .*running on node lf-.*@localhost$/),
    });
    expect(health.ok).toBe(true);
  });

  it('the API answers on 127.0.0.1 only, to the learner with the password; 401 without it, with a wrong one, and for guest', async () => {
    expect(listenersOn(management)).toEqual([`tcp 0100007F:${management.toString(16).toUpperCase().padStart(4, '0')}`]);
    const ok = await overview(base, `learner:${password}`);
    expect(ok.status).toBe(200);
    expect(ok.body.rabbitmq_version).toMatch(/^3\./);
    expect((await overview(base)).status).toBe(401);
    expect((await overview(base, 'learner:wrong')).status).toBe(401);
    expect((await overview(base, 'guest:guest')).status).toBe(401);
  });

  it('a later plain `up` keeps it; `up --no-rabbitmq-management` on this lab is refused (exit 2)', async () => {
    const again = await cli(['up', 'advanced', '--name', name], { home, timeoutMs: 30_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`mq (rabbitmq) management: ${base}/`);
    const off = await cli(['up', 'advanced', '--name', name, '--no-rabbitmq-management'], { home });
    expect(off.code).toBe(2);
    expect(off.stderr.trim()).toBe(
      `labforge: lab '${name}' exists with RabbitMQ management on; run \`labforge down ${name}\` first to change it`,
    );
  });

  it('down frees the management port, and the receipt lists it', async () => {
    const down = await cli(['down', name, '--json'], { home });
    expect(down.code, down.stderr).toBe(0);
    const receipt = json(down);
    expect(receipt.leftovers).toEqual([]);
    expect(receipt.ports.find((p: { component: string; name: string }) => p.component === 'mq' && p.name === 'management')).toMatchObject({
      port: management,
      free: true,
    });
    expect({ accepts: await portAccepts(management), bindable: await portBindable(management) }).toEqual({
      accepts: false,
      bindable: true,
    });
    expect(existsSync(labDir)).toBe(false);
  });

  it('up beginner --rabbitmq-management: one usage line, exit 2, nothing created', async () => {
    const empty = join(parent, 'untouched');
    const res = await cli(['up', 'beginner', '--rabbitmq-management'], { home: empty });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('labforge: --rabbitmq-management applies to labs with RabbitMQ (advanced), not to beginner');
    expect(existsSync(empty)).toBe(false);
  });
});
