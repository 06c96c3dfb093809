// The Pulumi project `synth --target pulumi` writes is the program `pulumi up` would run: here its
// own index.ts (with the vendored components bundle and deployment.json beside it) runs against
// Pulumi's mock monitor (setMocks; no Pulumi engine or AWS here), and must register exactly what
// the engine registers in-process and export every stack output.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { Level } from '../../constructs/model/types.js';
import { registrations, registrationsOf, type Registration } from '../../constructs/pulumi/inventory.js';
import { stackOutputs, synthPulumi } from '../../constructs/pulumi/project.js';
import { getLab } from '../../labs/index.js';

const out = mkdtempSync(join(tmpdir(), 'lf-pulumi-project-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const summary = (seen: Registration[]) => seen.map((r) => `${r.type} ${r.name} ${r.provider ?? '-'}`).sort();

describe.each<Level>(['beginner', 'expert'])('the generated %s project under Pulumi mocks', (level) => {
  const d = resolveDeployment(getLab(level), { owner: 'tester', ttl: '4h', allowCidr: '203.0.113.0/24' });
  const [project] = synthPulumi([d], out);
  // The project's dependencies, as `npm install` would provide them: labforge's own node_modules.
  symlinkSync(join(import.meta.dirname, '..', '..', 'node_modules'), join(project!.dir, 'node_modules'));

  it('registers the same resources, with the same providers, as the engine run in-process', async () => {
    let exported: Record<string, unknown> = {};
    const fromProject = await registrationsOf(d.name, async () => {
      exported = await import(pathToFileURL(join(project!.dir, 'index.ts')).href);
    });
    const inProcess = await registrations(d);
    expect(fromProject.filter((r) => r.custom).length).toBeGreaterThan(10);
    expect(summary(fromProject)).toEqual(summary(inProcess));
    // Every stack output of the lab is a named export of the program.
    expect(Object.keys(exported).sort()).toEqual(
      stackOutputs(d)
        .map((o) => o.name)
        .sort(),
    );
  });
});
