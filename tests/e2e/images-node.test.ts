// The locally built node:24 image, run the way the lab manifests run the API: the program's
// gzipped bundle in a ConfigMap-like mount, unpacked into the tmpfs /tmp by the manifests'
// shell command, then served; curl from the host. And the official entrypoint's rule: options
// and script files are run by node.
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

const PROGRAM = `import { createServer } from 'node:http';
createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, node: process.versions.node, uid: process.getuid(), instance: process.env.INSTANCE_NAME }));
}).listen(Number(process.env.LABFORGE_API_PORT), process.env.LABFORGE_API_HOST);
`;

describe('local image node:24', () => {
  let unpacked: UnpackedImage | undefined;
  let api: Container | undefined;

  afterAll(async () => {
    await api?.stop();
    await removeUnpacked(unpacked);
  });

  beforeAll(async () => {
    requireTools({ ...RUNTIME_TOOLS, curl: 'apt-get install -y curl' });
    await sweepStale();
    unpacked = await unpack(builtImage('node'));
    api = await startContainer(unpacked, {
      name: 'api-0',
      user: { uid: 1000, gid: 1000 },
      // constructs/k8s/services.ts's command for a program.
      command: ['sh', '-c', 'gunzip -c /opt/labforge/api.mjs.gz > /tmp/api.mjs && exec node /tmp/api.mjs'],
      env: { LABFORGE_API_HOST: '0.0.0.0', LABFORGE_API_PORT: '8080', INSTANCE_NAME: 'api-0' },
      scratch: ['/tmp'],
      files: { '/opt/labforge/api.mjs.gz': { content: gzipSync(PROGRAM) } },
      memoryMiB: 256,
    });
    const container = api;
    await waitFor('HTTP', container, async () => (await run('curl', ['-sf', `http://${container.ip}:8080/`])).code === 0, 20_000);
  });

  it('serves the program from the ConfigMap bundle as uid 1000, on Node 22 or later', async () => {
    const response = await run('curl', ['-sf', `http://${api!.ip}:8080/health`]);
    expect(response.code, response.stderr).toBe(0);
    const body = JSON.parse(response.stdout) as { path: string; node: string; uid: number; instance: string };
    expect(body).toMatchObject({ path: '/health', uid: 1000, instance: 'api-0' });
    expect(Number(body.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    expect(processIds(await api!.pid())).toEqual({ uid: 1000, gid: 1000 });
  });

  it('runs options and script files through node (the official entrypoint) and keeps its root read-only', async () => {
    const option = await api!.exec(['docker-entrypoint.sh', '-e', 'console.log(6 * 7)']);
    expect(option.stdout.trim()).toBe('42');
    const script = await api!.exec([
      'sh',
      '-c',
      "echo 'console.log(process.argv[2])' > /tmp/argv.js && docker-entrypoint.sh /tmp/argv.js hello",
    ]);
    expect(script.stdout.trim()).toBe('hello');
    const write = await rootIsReadOnly(api!);
    expect(write.stderr).toContain('Read-only file system');
  });
});
