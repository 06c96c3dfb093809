// The locally built redis:8 image: started the way the lab manifests start it (their shell
// command, the password through stdin) and with the image's own entrypoint and CMD (protected
// mode off, working directory /data, as the official image); redis-cli from the host.
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

// constructs/k8s/stores.ts's redis command.
const MANIFEST_COMMAND = ['sh', '-c', 'exec redis-server - <<EOF\nrequirepass $REDIS_PASSWORD\nsave ""\nappendonly no\ndir /data\nEOF'];

describe('local image redis:8', () => {
  let unpacked: UnpackedImage | undefined;
  const containers: Container[] = [];
  let lab: Container;
  let plain: Container;
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  afterAll(async () => {
    for (const c of containers) await c.stop();
    await removeUnpacked(unpacked);
  });

  beforeAll(async () => {
    requireTools({ ...RUNTIME_TOOLS, 'redis-cli': 'apt-get install -y redis-tools (scripts/setup.sh installs redis-server)' });
    await sweepStale();
    unpacked = await unpack(builtImage('redis'));
    lab = await startContainer(unpacked, {
      name: 'cache-0',
      user: { uid: 999, gid: 1000 },
      command: MANIFEST_COMMAND,
      env: { REDIS_PASSWORD: password },
      scratch: ['/data', '/tmp'],
      memoryMiB: 128,
    });
    containers.push(lab);
    plain = await startContainer(unpacked, { name: 'plain-0', user: { uid: 999, gid: 999 }, scratch: ['/data', '/tmp'], memoryMiB: 128 });
    containers.push(plain);
    const pong = (c: Container, auth: string[]) => async () =>
      (await run('redis-cli', ['-h', c.ip, ...auth, 'PING'])).stdout.trim() === 'PONG';
    await Promise.all([
      waitFor('PONG', lab, pong(lab, ['-u', `redis://default:${password}@${lab.ip}:6379`]), 20_000),
      waitFor('PONG', plain, pong(plain, []), 20_000),
    ]);
  });

  it('answers PING and keeps data with the password, refuses without it', async () => {
    const url = `redis://default:${password}@${lab.ip}:6379`;
    expect((await run('redis-cli', ['-u', url, 'SET', 'lab:greeting', 'hello'])).stdout.trim()).toBe('OK');
    expect((await run('redis-cli', ['-u', url, 'GET', 'lab:greeting'])).stdout.trim()).toBe('hello');
    const anonymous = await run('redis-cli', ['-h', lab.ip, 'PING']);
    expect(anonymous.stdout + anonymous.stderr).toContain('NOAUTH');
    expect(processIds(await lab.pid())).toEqual({ uid: 999, gid: 1000 });
  });

  it("answers the manifests' readiness probe (redis-cli on PATH) and keeps its root filesystem read-only", async () => {
    const probe = await lab.exec(['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG']);
    expect(probe.code, probe.stderr).toBe(0);
    const write = await rootIsReadOnly(lab);
    expect(write.stderr).toContain('Read-only file system');
  });

  it('runs the official defaults from its entrypoint: protected mode off, /data as working directory, Redis 8', async () => {
    const config = await run('redis-cli', ['-h', plain.ip, 'CONFIG', 'GET', 'protected-mode']);
    expect(config.stdout.trim().split('\n')).toEqual(['protected-mode', 'no']);
    expect((await run('redis-cli', ['-h', plain.ip, 'CONFIG', 'GET', 'dir'])).stdout.trim().split('\n')).toEqual(['dir', '/data']);
    expect((await run('redis-cli', ['-h', plain.ip, 'INFO', 'server'])).stdout).toMatch(/redis_version:8\./);
  });
});
