// scripts/k8s/images.sh as its users call it: `list` agrees with the cache's index.json and the
// archives themselves, a second `build` finds everything built and does nothing, and a bad
// image name or command is one line naming the valid choices, exit 2, nothing built.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { builtImage, run } from './images-runtime.js';

const SCRIPT = join(ROOT, 'scripts/k8s/images.sh');
const NAMES = ['postgres', 'redis', 'rabbitmq', 'kafka', 'node'];

describe('scripts/k8s/images.sh', () => {
  it('lists ref, digest and archive of every image, as index.json and the archives say', async () => {
    for (const name of NAMES) builtImage(name);
    const cache = (await run('bash', [SCRIPT, 'dir'])).stdout.trim();
    const index = JSON.parse(readFileSync(join(cache, 'index.json'), 'utf8')) as {
      images: Record<string, { digest: string; archive: string }>;
    };
    const rows = (await run('bash', [SCRIPT, 'list'])).stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(rows.map(([ref]) => ref)).toEqual([
      'docker.io/library/postgres:17',
      'docker.io/library/redis:8',
      'docker.io/library/rabbitmq:4',
      'docker.io/apache/kafka:4.4.0',
      'docker.io/library/node:24',
    ]);
    for (const [ref, digest, archive] of rows) {
      expect(index.images[ref!]).toMatchObject({ digest, archive });
      // The archive's own index names the same manifest and ref.
      const oci = JSON.parse(execFileSync('tar', ['-xOf', archive!, 'index.json'], { encoding: 'utf8' })) as {
        manifests: { digest: string; annotations: Record<string, string> }[];
      };
      expect(oci.manifests[0]).toMatchObject({ digest, annotations: { 'io.containerd.image.name': ref } });
    }
  });

  it('builds nothing when everything is built', async () => {
    const cache = (await run('bash', [SCRIPT, 'dir'])).stdout.trim();
    const before = readdirSync(cache).sort();
    const result = await run('bash', [SCRIPT, 'build'], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('already built');
    expect(readdirSync(cache).sort()).toEqual(before);
  });

  it('refuses an unknown image or command in one line with the valid choices', async () => {
    const image = await run('bash', [SCRIPT, 'build', 'mongodb'], { timeoutMs: 20_000 });
    expect(image.code).toBe(2);
    expect(image.stderr.trim()).toBe("images.sh: unknown image 'mongodb' (valid: postgres, redis, rabbitmq, kafka, node)");
    const command = await run('bash', [SCRIPT, 'push']);
    expect(command.code).toBe(2);
    expect(command.stderr.split('\n')[0]).toBe("images.sh: unknown command 'push' (valid: build, list, dir, prune)");
  });
});
