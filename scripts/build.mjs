#!/usr/bin/env node
// Bundles the CLI into dist/labforge.mjs so start-up reads one file instead of resolving dozens
// of yargs and labforge modules (measured: --help 150 ms -> 100 ms). Engines stay in lazily
// loaded chunks, and engine packages (cdktf, providers, database clients) stay external.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
const dependencies = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies);

// Chunk names carry a content hash: drop the previous build's so stale ones do not pile up.
rmSync(join(ROOT, 'dist/chunks'), { recursive: true, force: true });

await build({
  // The manifest worker is its own entry: `synth --target aws` starts it as a worker thread.
  entryPoints: { labforge: join(ROOT, 'cli/index.ts'), 'k8s-manifests-worker': join(ROOT, 'constructs/k8s/manifests-worker.ts') },
  outdir: join(ROOT, 'dist'),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Engines and clients are loaded lazily by the commands that need them: every runtime
  // dependency but yargs stays out of the bundle (they are large, and cdktf must be the single
  // copy the providers see).
  external: dependencies.filter((name) => name !== 'yargs'),
  logLevel: 'warning',
});

// The services as single files (their npm packages inlined), gzipped: the `k8s` target ships
// them to the official node image in a ConfigMap, so a lab needs no image build or registry.
const programs = { api: 'templates/api/server.mjs', worker: 'templates/worker/worker.mjs' };
const programDir = join(ROOT, 'dist/programs');
rmSync(programDir, { recursive: true, force: true });
mkdirSync(programDir, { recursive: true });
for (const [name, entry] of Object.entries(programs)) {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    // pg and ioredis still call require() for Node built-ins inside the ESM bundle.
    banner: { js: "import { createRequire as __labforgeRequire } from 'node:module'; const require = __labforgeRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  writeFileSync(join(programDir, `${name}.mjs.gz`), gzipSync(result.outputFiles[0].contents, { level: 9 }));
}

// The Pulumi components as one ES module, vendored by `synth --target pulumi` into every project
// (labforge/labforge.mjs). Every @pulumi/* package stays external, resolved from the project's
// node_modules: two copies of the SDK in one program break Pulumi. The rest (model, catalog) is inlined.
rmSync(join(ROOT, 'dist/pulumi'), { recursive: true, force: true });
await build({
  entryPoints: [join(ROOT, 'constructs/pulumi/index.ts')],
  outfile: join(ROOT, 'dist/pulumi/labforge.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: dependencies.filter((name) => name.startsWith('@pulumi/')),
  banner: {
    js: "// labforge components for Pulumi (bundled from labforge's constructs/pulumi).\nimport { createRequire as __labforgeRequire } from 'node:module'; const require = __labforgeRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// `show` prints each level's hourly cost in its default regions. Pricing means building the cdktf
// inventory (about 250 ms of loading cdktf), so the build prices the four levels once, from the
// modules tsc just wrote, and `show` reads the table (cli/inventory.ts).
const { allLabs } = await import(join(ROOT, 'dist/labs/index.js'));
const { cdktfInventory } = await import(join(ROOT, 'dist/constructs/aws/inventory.js'));
const { costOfInventory } = await import(join(ROOT, 'dist/constructs/model/cost.js'));
const { resolveDeployment } = await import(join(ROOT, 'dist/constructs/model/deployment.js'));
const defaultCosts = Object.fromEntries(
  allLabs().map((lab) => {
    const { hourly, regions, pricesTakenOn } = costOfInventory(cdktfInventory(resolveDeployment(lab)));
    return [lab.level, { hourly, regions, pricesTakenOn }];
  }),
);
writeFileSync(join(ROOT, 'dist/default-costs.json'), `${JSON.stringify(defaultCosts, null, 2)}\n`);
