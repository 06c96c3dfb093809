// `labforge synth <level> --target pulumi` through the built CLI: a runnable Pulumi project per
// lab, whose program type-checks with the repo's TypeScript against the real @pulumi/pulumi types.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { clusterOutputNames } from '../../constructs/model/names.js';
import { getLab } from '../../labs/index.js';
import { ROOT, labforge } from './run.js';

const parent = mkdtempSync(join(tmpdir(), 'lf-pulumi-synth-'));
const out = join(parent, 'out');
const labforgePackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

afterAll(() => rmSync(parent, { recursive: true, force: true }));

beforeAll(() => {
  for (const level of ['beginner', 'expert']) {
    const r = labforge(['synth', level, '--target', 'pulumi', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
  }
});

const read = (lab: string, file: string) => readFileSync(join(out, lab, file), 'utf8');
/** `export const <name> = labOutput('<output>')` lines of the generated program, as [name, output]. */
const exportLines = (lab: string) =>
  [...read(lab, 'index.ts').matchAll(/^export const (\w+) = labOutput\('(\w+)'\);$/gm)].map((m) => [m[1], m[2]]);

describe.each(['beginner', 'expert'] as const)('synth %s --target pulumi', (level) => {
  it('writes the project files and the vendored components', () => {
    for (const file of [
      'Pulumi.yaml',
      'index.ts',
      'deployment.json',
      'package.json',
      'tsconfig.json',
      '.gitignore',
      'labforge/labforge.mjs',
      'labforge/labforge.d.mts',
      'labforge/package.json',
    ]) {
      expect(existsSync(join(out, level, file)), file).toBe(true);
    }
    expect(readdirSync(join(out, level, 'labforge/templates/cloud-init')).sort()).toEqual(
      readdirSync(join(ROOT, 'templates/cloud-init')).sort(),
    );
    // The bundle is labforge's components with the SDK left to the project: it imports @pulumi/* and inlines none of it.
    const bundle = read(level, 'labforge/labforge.mjs');
    expect(bundle).toMatch(/^import \* as \w+ from "@pulumi\/pulumi";$/m);
    expect(bundle).toMatch(/^export {\s+LabforgeLab\s+};$/m);
    expect(bundle).not.toMatch(/node_modules\/@pulumi/);
  });

  it('Pulumi.yaml names the project and runs it on nodejs with TypeScript, without a custom loader', () => {
    const project = parse(read(level, 'Pulumi.yaml')) as {
      name: string;
      description: string;
      runtime: { name: string; options: Record<string, unknown> };
    };
    expect(project.name).toBe(`labforge-${level}`);
    expect(project.description).toContain(level);
    expect(project.runtime.name).toBe('nodejs');
    expect(project.runtime.options.typescript).toBe(true);
    // nodeargs with a loader would turn off Pulumi's automatic ESM mode.
    expect(project.runtime.options).not.toHaveProperty('nodeargs');
  });

  it('package.json is an ES module pinning the SDK versions labforge is built with', () => {
    const pkg = JSON.parse(read(level, 'package.json')) as {
      type: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.type).toBe('module');
    for (const name of ['@pulumi/pulumi', '@pulumi/aws', '@pulumi/random', 'typescript']) {
      expect(pkg.dependencies[name], name).toBe(labforgePackage.dependencies[name] ?? labforgePackage.devDependencies[name]);
    }
    expect(pkg.dependencies['ts-node']).toMatch(/^10\./);
    expect(pkg.devDependencies['@types/node']).toBe(labforgePackage.devDependencies['@types/node']);
    // The vendored folder is its own package root, so the bundle finds its templates there.
    expect(JSON.parse(read(level, 'labforge/package.json'))).toMatchObject({ type: 'module', private: true });
  });

  it("index.ts exports one stack output per output of the lab (plus each EKS cluster's)", () => {
    const deployment = JSON.parse(read(level, 'deployment.json')) as { regions: string[] };
    const eks = level === 'expert' ? deployment.regions.flatMap((r) => Object.values(clusterOutputNames(r))) : [];
    const names = [...getLab(level).outputs.map((o) => o.name), ...eks];
    expect(exportLines(level)).toEqual(names.map((n) => [n, n]));
    expect(read(level, 'index.ts').match(/^export /gm)).toHaveLength(names.length);
    expect(read(level, 'index.ts')).toContain("from './labforge/labforge.mjs'");
  });

  it('deployment.json round-trips to the resolved deployment', () => {
    const written = JSON.parse(read(level, 'deployment.json')) as Record<string, unknown> & { expiresAt: string };
    const expected = resolveDeployment(getLab(level));
    expect({ ...written, expiresAt: undefined }).toEqual(JSON.parse(JSON.stringify({ ...expected, expiresAt: undefined })));
    // Default TTL 4h from the synth run (minutes apart at most).
    expect(Math.abs(Date.parse(written.expiresAt) - Date.parse(expected.expiresAt))).toBeLessThan(5 * 60_000);
    expect((written.regions as string[]).length).toBe(level === 'expert' ? 2 : 1);
  });

  it('the generated program type-checks (tsc -p, the repo node_modules linked in)', () => {
    const dir = join(out, level);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    try {
      const r = spawnSync(join(dir, 'node_modules/.bin/tsc'), ['-p', dir, '--noEmit'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(join(dir, 'node_modules'));
    }
  });
});

describe('the vendored declaration', () => {
  it('agrees with the engine it declares (tsc): LabforgeLab, its constructor, the deployment type', () => {
    // Inside the project, so the declaration resolves @pulumi/pulumi as the program does.
    const project = join(out, 'beginner');
    const dir = join(project, 'declaration-check');
    mkdirSync(dir);
    const check = `import { LabforgeLab as Engine } from '${join(ROOT, 'constructs/pulumi/index.js')}';
import type { LabDeployment } from '${join(ROOT, 'constructs/model/deployment.js')}';
import type { LabforgeLab as Declared, LabforgeDeployment } from '../labforge/labforge.mjs';
// The engine's instances have everything the declaration promises.
export const lab: Declared = null as unknown as Engine;
// What labforge writes to deployment.json fits the declared deployment type.
export const deployment: LabforgeDeployment = null as unknown as LabDeployment;
// The engine's constructor takes (name, { deployment }), as declared.
export const args: ConstructorParameters<typeof Engine> = ['lab', { deployment: null as unknown as LabDeployment }];
`;
    writeFileSync(join(dir, 'check.ts'), check);
    const compilerOptions = {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
    try {
      const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(join(project, 'node_modules'));
      rmSync(dir, { recursive: true });
    }
  });
});

describe('synth --target pulumi input', () => {
  it('an unknown target exits 2 naming the valid ones, and writes nothing', () => {
    const nothing = join(parent, 'nothing');
    const r = labforge(['synth', 'beginner', '--target', 'nope', '--out', nothing]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("labforge: unknown target 'nope' (valid: aws, k8s, pulumi)");
    expect(existsSync(nothing)).toBe(false);
  });

  it('bad input for one lab of `all` writes no project at all', () => {
    const nothing = join(parent, 'bad-ttl');
    const r = labforge(['synth', 'all', '--target', 'pulumi', '--out', nothing, '--ttl', '9d']);
    expect(r.code).toBe(2);
    expect(existsSync(nothing)).toBe(false);
  });

  it('prints one line per lab and how to deploy', () => {
    const r = labforge(['synth', 'beginner', '--target', 'pulumi', '--out', join(parent, 'again')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`beginner: Pulumi project, 3 stack outputs -> ${join(parent, 'again', 'beginner')}`);
    expect(r.stderr).toContain(`cd ${join(parent, 'again', 'beginner')} && npm install && pulumi up`);
  });
});
