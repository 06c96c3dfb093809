// `synth --target pulumi` (and `up --target pulumi`): a runnable Pulumi project per lab. Only files
// are written and copied here; nothing from @pulumi/* is imported, so generating a project needs
// neither the Pulumi SDK loaded nor the network.
//
// How Pulumi runs this project (checked in @pulumi/pulumi 3.248's cmd/run/run.js, Pulumi's docs on
// native ESM, pulumi/pulumi#19980 and its tests/integration/nodejs/esm-ts-auto):
// - `runtime: nodejs` runs index.ts through ts-node (typescript is on by default). With
//   package.json `"type": "module"`, a project TypeScript newer than 4.7, no --loader/--import
//   node args and `ts-node/esm` resolvable, the SDK (>= 3.183) switches to "automatic ESM mode":
//   it registers ts-node's ESM hooks itself (module.register) and imports the program. So: no
//   `nodeargs` in Pulumi.yaml (a custom loader turns the automatic mode off), and ts-node 10.9
//   plus typescript as project dependencies (without them Pulumi falls back to its vendored
//   ts-node 7 / TypeScript 3.8, which cannot load an ES module).
// - tsconfig `module`/`moduleResolution: nodenext`: relative imports carry their extension
//   (`./labforge/labforge.mjs`, typed by the `.d.mts` beside it). ts-node type-checks by default.
// - The named exports of the ES module are the stack outputs (a default export would replace them).
// - The vendored bundle imports @pulumi/* as externals, resolved from the project's node_modules:
//   one copy of the SDK, or resources would register with a second, unconnected runtime.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsPlan } from '../model/aws-plan.js';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError, ValidationError } from '../model/errors.js';
import { packageRoot, templatePath } from '../model/paths.js';

/** Where `synth --target pulumi` writes unless --out says otherwise. */
export const PULUMI_OUT = 'pulumi.out';
/** ts-node for Pulumi's automatic ESM mode (the version Pulumi's own ESM tests run). */
const TS_NODE_VERSION = '10.9.2';
/** Names the generated program uses itself: an output of that name would clash. */
const PROGRAM_NAMES = new Set(['readFileSync', 'LabforgeLab', 'LabforgeDeployment', 'labforgeLab', 'deployment', 'labOutput']);
const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield await'.split(
    ' ',
  ),
);

export interface PulumiProjectStackOutput {
  readonly name: string;
  readonly description: string;
  readonly sensitive: boolean;
}

export interface WrittenPulumiProject {
  readonly lab: string;
  readonly dir: string;
  readonly outputs: number;
  readonly files: readonly string[];
}

/** What is copied into `<project>/labforge/`: the components bundle, its types, the cloud-init templates. */
interface ComponentSources {
  readonly bundle: string;
  readonly types: string;
  readonly cloudInit: string;
}

/** The components bundle the build writes (scripts/build.mjs); missing means labforge was not built. */
function componentSources(): ComponentSources {
  const sources = {
    bundle: join(packageRoot(), 'dist', 'pulumi', 'labforge.mjs'),
    types: templatePath('pulumi', 'labforge.d.mts'),
    cloudInit: templatePath('cloud-init'),
  };
  for (const path of Object.values(sources)) {
    if (!existsSync(path))
      throw new ExternalError(`the Pulumi components are not built (${path} is missing)`, 'run `npm run build` in the labforge checkout');
  }
  return sources;
}

/** Every stack output of the lab, from its AWS plan (which the components build from too): its spec's outputs, then each EKS cluster's name, endpoint and CA. */
export function stackOutputs(d: LabDeployment): PulumiProjectStackOutput[] {
  const plan = awsPlan(d);
  const outputs = [...plan.outputs, ...plan.clusterOutputs].map(({ name, description, sensitive }) => ({ name, description, sensitive }));
  const seen = new Set<string>();
  for (const { name } of outputs) {
    const where = `pulumi project of lab '${d.name}': output '${name}'`;
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) || RESERVED.has(name))
      throw new ValidationError(`${where} is not a valid TypeScript export name`);
    if (PROGRAM_NAMES.has(name)) throw new ValidationError(`${where} clashes with a name the generated program uses`);
    if (seen.has(name)) throw new ValidationError(`${where} is declared twice`);
    seen.add(name);
  }
  return outputs;
}

function labforgeVersions(): { labforge: string; deps: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  return { labforge: pkg.version, deps: { ...pkg.devDependencies, ...pkg.dependencies } };
}

/** One line of a comment: no `*\/` that would close it early, no line breaks. */
const commentText = (text: string) => text.replace(/\*\//g, '* /').replace(/\s+/g, ' ');

function indexTs(d: LabDeployment, outputs: readonly PulumiProjectStackOutput[]): string {
  const exports = outputs.map(
    (o) => `/** ${commentText(o.description)}${o.sensitive ? ' (secret)' : ''} */\nexport const ${o.name} = labOutput('${o.name}');`,
  );
  return `// Pulumi program of the labforge lab '${d.name}' (${commentText(d.lab.title)}), written by labforge.
// Deploy: npm install && pulumi up. Every resource is tagged labforge:lab=${d.name} and expires at
// ${d.expiresAt} (labforge:expires-at); \`pulumi destroy\` removes them all.
import { readFileSync } from 'node:fs';
import { LabforgeLab, type LabforgeDeployment } from './labforge/labforge.mjs';

// The lab as labforge resolved it: spec, name, owner, regions, expiry and allowed CIDR.
const deployment = JSON.parse(readFileSync(new URL('./deployment.json', import.meta.url), 'utf8')) as LabforgeDeployment;
const labforgeLab = new LabforgeLab(deployment.name, { deployment });

/** One of the lab's outputs; a name the components do not give is an error, not a silent gap. */
function labOutput(name: string) {
  const value = labforgeLab.outputs[name];
  if (value === undefined) throw new Error(\`the labforge components give no output '\${name}'\`);
  return value;
}

// Stack outputs (\`pulumi stack output\`); secrets stay encrypted unless --show-secrets.
${exports.join('\n')}
`;
}

function pulumiYaml(d: LabDeployment): string {
  // JSON strings are valid YAML scalars: no quoting rules of our own.
  const description = JSON.stringify(`labforge lab '${d.name}': ${d.lab.title} on AWS`);
  return `name: labforge-${d.name}
description: ${description}
runtime:
  name: nodejs
  options:
    typescript: true
    packagemanager: npm
`;
}

/** The project's text files, by path relative to the project directory. Throws before anything is written. */
function renderProject(d: LabDeployment): { files: Record<string, string>; outputs: number } {
  const outputs = stackOutputs(d);
  const { labforge, deps } = labforgeVersions();
  const pinned = (name: string) => {
    const version = deps[name];
    if (version === undefined) throw new ValidationError(`labforge's package.json does not list ${name}`);
    return version;
  };
  const packageJson = {
    name: `labforge-${d.name}`,
    private: true,
    description: `Pulumi program of the labforge lab '${d.name}'`,
    type: 'module',
    dependencies: {
      '@pulumi/aws': pinned('@pulumi/aws'),
      '@pulumi/pulumi': pinned('@pulumi/pulumi'),
      '@pulumi/random': pinned('@pulumi/random'),
      'ts-node': TS_NODE_VERSION,
      typescript: pinned('typescript'),
    },
    devDependencies: { '@types/node': pinned('@types/node') },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
    files: ['index.ts'],
  };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    outputs: outputs.length,
    files: {
      'Pulumi.yaml': pulumiYaml(d),
      'index.ts': indexTs(d, outputs),
      'deployment.json': json(d),
      'package.json': json(packageJson),
      'tsconfig.json': json(tsconfig),
      '.gitignore': 'node_modules/\nbin/\n',
      // Its own package root: the bundle finds templates/ here, not in whatever encloses the project.
      'labforge/package.json': json({
        name: 'labforge-pulumi-components',
        version: labforge,
        private: true,
        type: 'module',
        description: 'labforge components, vendored',
      }),
    },
  };
}

function writeRendered(
  d: LabDeployment,
  dir: string,
  rendered: { files: Record<string, string>; outputs: number },
  sources: ComponentSources,
): WrittenPulumiProject {
  // The vendored folder is replaced whole; node_modules from an earlier `npm install` stays.
  rmSync(join(dir, 'labforge'), { recursive: true, force: true });
  mkdirSync(join(dir, 'labforge', 'templates'), { recursive: true });
  for (const [path, content] of Object.entries(rendered.files)) writeFileSync(join(dir, path), content);
  cpSync(sources.bundle, join(dir, 'labforge', 'labforge.mjs'));
  cpSync(sources.types, join(dir, 'labforge', 'labforge.d.mts'));
  cpSync(sources.cloudInit, join(dir, 'labforge', 'templates', 'cloud-init'), { recursive: true });
  const files = [...Object.keys(rendered.files), 'labforge/labforge.mjs', 'labforge/labforge.d.mts', 'labforge/templates/cloud-init/'];
  return { lab: d.name, dir, outputs: rendered.outputs, files };
}

/** One lab's project, validated now; the returned function writes it into a directory (the `pulumi` target's lab directory). */
export function pulumiProjectWriter(d: LabDeployment): (dir: string) => WrittenPulumiProject {
  const rendered = renderProject(d);
  const sources = componentSources();
  return (dir) => {
    mkdirSync(dir, { recursive: true });
    return writeRendered(d, dir, rendered, sources);
  };
}

/** `synth --target pulumi`: every lab's project into `outdir/<lab>/`, all validated before the first write. */
export function synthPulumi(deployments: readonly LabDeployment[], outdir: string): WrittenPulumiProject[] {
  const rendered = deployments.map((d) => renderProject(d));
  const sources = componentSources();
  return deployments.map((d, i) => {
    const dir = join(outdir, d.name);
    mkdirSync(dir, { recursive: true });
    return writeRendered(d, dir, rendered[i]!, sources);
  });
}
