// The locally built rabbitmq:4 image: the default user, password and vhost from the
// environment, an extra configuration file in /etc/rabbitmq/conf.d (a ConfigMap-like mount),
// read-only root with tmpfs data/log/tmp; an AMQP round trip from the host with amqplib.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtImage,
  processIds,
  removeUnpacked,
  requireTools,
  rootIsReadOnly,
  RUNTIME_TOOLS,
  startContainer,
  sweepStale,
  unpack,
  waitFor,
  type Container,
  type UnpackedImage,
} from './images-runtime.js';

describe('local image rabbitmq:4', () => {
  let unpacked: UnpackedImage | undefined;
  let mq: Container | undefined;
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const vhost = 'lab/vhost';
  let url = '';

  afterAll(async () => {
    await mq?.stop();
    await removeUnpacked(unpacked);
  });

  beforeAll(async () => {
    requireTools(RUNTIME_TOOLS);
    await sweepStale();
    unpacked = await unpack(builtImage('rabbitmq'));
    mq = await startContainer(unpacked, {
      name: 'mq-0',
      user: { uid: 999, gid: 999 },
      env: { RABBITMQ_DEFAULT_USER: 'labuser', RABBITMQ_DEFAULT_PASS: password, RABBITMQ_DEFAULT_VHOST: vhost },
      scratch: ['/var/lib/rabbitmq', '/var/log/rabbitmq', '/tmp'],
      files: { '/etc/rabbitmq/conf.d/30-labforge.conf': { content: 'cluster_name = lf-images-test\n' } },
      memoryMiB: 512,
    });
    url = `amqp://labuser:${password}@${mq.ip}:5672/${encodeURIComponent(vhost)}`;
    const container = mq;
    await waitFor(
      'an AMQP connection',
      container,
      async () => {
        const connection = await amqp.connect(url, { timeout: 2000 });
        await connection.close();
        return true;
      },
      90_000,
    );
  }, 120_000);

  it('accepts RABBITMQ_DEFAULT_USER/PASS on RABBITMQ_DEFAULT_VHOST and routes a message', async () => {
    const connection = await amqp.connect(url);
    try {
      expect(connection.connection.serverProperties.product).toBe('RabbitMQ');
      expect(connection.connection.serverProperties.version).toMatch(/^4\./);
      // Read from the mounted conf.d file.
      expect(connection.connection.serverProperties.cluster_name).toBe('lf-images-test');
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('hello from the host'));
      let message: amqp.GetMessage | false = false;
      for (let i = 0; i < 20 && !message; i++) {
        message = await channel.get(queue, { noAck: true });
        if (!message) await new Promise((r) => setTimeout(r, 50));
      }
      expect(message && message.content.toString()).toBe('hello from the host');
    } finally {
      await connection.close();
    }
    expect(processIds(await mq!.pid())).toEqual({ uid: 999, gid: 999 });
  });

  it('refuses a wrong password', async () => {
    await expect(amqp.connect(url.replace(password, 'wrong'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it("answers the manifests' readiness probe (rabbitmq-diagnostics on PATH) and keeps its root filesystem read-only", async () => {
    const probe = await mq!.exec(['rabbitmq-diagnostics', '-q', 'check_port_connectivity'], { timeoutMs: 30_000 });
    expect(probe.code, probe.stdout + probe.stderr).toBe(0);
    const write = await rootIsReadOnly(mq!);
    expect(write.stderr).toContain('Read-only file system');
  });
});
