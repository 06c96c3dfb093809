// The `pulumi` target: `up` writes the lab's Pulumi project into its directory under the labforge
// home and runs the Pulumi CLI on it; `down` destroys the stack, proves from `pulumi stack export`
// that it holds nothing, removes it and the lab directory. The state file is written before the
// first pulumi command, so an interrupted or failed `up` is always removable by `down`.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProbeResult } from '../../health/probe.js';
import { getLab } from '../../labs/index.js';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError } from '../model/errors.js';
import { existingCloudLab, generatePassword, removeHomeIfEmpty, writeFileAtomic } from '../model/home.js';
import type { Level } from '../model/types.js';
import { findExecutable, isRunning, pathDirs, runTool, type ToolRunOptions } from '../model/tool.js';
import { pulumiProjectWriter } from './project.js';

export const PULUMI_STATE_VERSION = 1;

export interface PulumiLabState {
  readonly version: number;
  readonly name: string;
  readonly level: Level;
  readonly target: 'pulumi';
  readonly createdAt: string;
  updatedAt: string;
  /** When `reap` may remove the lab (ISO-8601 UTC): the deployment's expiry, also its expires-at tag. */
  readonly expiresAt?: string;
  /** Stack and project names (`labforge-<lab>`). */
  readonly stack: string;
  readonly project: string;
  /** PULUMI_BACKEND_URL at the first `up`: `down` uses the same one whatever the environment says then. */
  readonly backend: string;
  readonly regions: readonly string[];
  /** `deploying` while (or since) `pulumi up` ran; `up` once it finished. */
  phase: 'deploying' | 'up' | 'failed' | 'interrupted';
  /** The labforge process running `up`, to tell "deploying now" from "interrupted". */
  pid?: number;
}

export function pulumiLabLayout(home: string, name: string) {
  const dir = join(home, name);
  return {
    dir,
    stateFile: join(dir, 'state.json'),
    passphraseFile: join(dir, 'passphrase'),
    projectDir: join(dir, 'pulumi'),
    backendDir: join(dir, 'backend'),
  };
}

export function readPulumiState(home: string, name: string): PulumiLabState {
  return JSON.parse(readFileSync(pulumiLabLayout(home, name).stateFile, 'utf8')) as PulumiLabState;
}

function writePulumiState(home: string, state: PulumiLabState): void {
  state.updatedAt = new Date().toISOString();
  writeFileAtomic(pulumiLabLayout(home, state.name).stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

const INSTALL_PULUMI =
  'install it: curl -fsSL https://get.pulumi.com | sh (or a package manager: brew install pulumi/tap/pulumi, choco install pulumi)';

/** The pulumi binary: on PATH, else $PULUMI_HOME/bin, else ~/.pulumi/bin (where get.pulumi.com installs it). */
export function findPulumi(hint: string, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = pathDirs(env);
  if (env.PULUMI_HOME) dirs.push(join(env.PULUMI_HOME, 'bin'));
  dirs.push(join(env.HOME ?? homedir(), '.pulumi', 'bin'));
  const found = findExecutable('pulumi', dirs);
  if (found !== undefined) return found;
  throw new ExternalError('pulumi CLI not found (looked on PATH, in $PULUMI_HOME/bin and ~/.pulumi/bin)', `${INSTALL_PULUMI}; ${hint}`);
}

export interface PulumiRunOptions extends ToolRunOptions {
  readonly pulumi: string;
}

async function pulumiJson(args: readonly string[], options: PulumiRunOptions): Promise<unknown> {
  const r = await runTool(options.pulumi, args, { ...options, capture: true });
  if (r.code !== 0)
    throw new ExternalError(`pulumi ${args.join(' ')} failed (${r.signal ?? `exit code ${r.code}`})`, 'see the messages above');
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new ExternalError(`pulumi ${args.join(' ')} printed no JSON`);
  }
}

async function pulumiOrFail(args: readonly string[], options: PulumiRunOptions, hint: string): Promise<void> {
  const r = await runTool(options.pulumi, args, options);
  if (r.code !== 0) throw new ExternalError(`pulumi ${args[0]} failed (${r.signal ?? `exit code ${r.code}`})`, hint);
}

/** The environment every pulumi command of the lab runs with. The passphrase is never printed. */
function pulumiEnv(home: string, state: PulumiLabState, pulumi: string): NodeJS.ProcessEnv {
  const layout = pulumiLabLayout(home, state.name);
  return {
    ...process.env,
    // pulumi finds its language host and plugins beside itself, also when found outside PATH.
    PATH: [dirname(pulumi), process.env.PATH ?? ''].join(delimiter),
    PULUMI_BACKEND_URL: state.backend,
    PULUMI_CONFIG_PASSPHRASE: readFileSync(layout.passphraseFile, 'utf8').trim(),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
  };
}

export interface PulumiUpOptions {
  readonly deployment: LabDeployment;
  readonly home: string;
  readonly progress: (line: string) => void;
  /** Set when the user interrupted (Ctrl-C): pulumi cancels by itself, `up` stops after it. */
  readonly signal?: AbortSignal;
}

export interface PulumiUpResult {
  readonly name: string;
  readonly level: Level;
  readonly stack: string;
  readonly backend: string;
  readonly projectDir: string;
  /** Non-secret outputs by name; secret ones are listed by name only. */
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: readonly string[];
  readonly interrupted: boolean;
  readonly seconds: number;
}

export async function upPulumiLab(options: PulumiUpOptions): Promise<PulumiUpResult> {
  const started = performance.now();
  const { deployment: d, home, progress } = options;
  const layout = pulumiLabLayout(home, d.name);
  // Everything that can fail without the cloud fails before anything is created.
  const pulumi = findPulumi('nothing was created; `labforge synth <level> --target pulumi` writes the project without it');
  const existing = existingCloudLab(home, d.name, d.lab.level, 'pulumi', () => readPulumiState(home, d.name));
  if (existing) refuseBusy(existing);
  const writeProject = pulumiProjectWriter(d);

  mkdirSync(home, { recursive: true, mode: 0o755 });
  mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(layout.passphraseFile)) writeFileAtomic(layout.passphraseFile, `${generatePassword(32)}\n`, 0o600);
  const userBackend = process.env.PULUMI_BACKEND_URL?.trim();
  const now = new Date().toISOString();
  const state: PulumiLabState = {
    version: PULUMI_STATE_VERSION,
    name: d.name,
    level: d.lab.level,
    target: 'pulumi',
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    expiresAt: d.expiresAt,
    stack: d.name,
    project: `labforge-${d.name}`,
    backend: existing?.backend ?? (userBackend || pathToFileURL(layout.backendDir).href),
    regions: d.regions,
    phase: 'deploying',
    pid: process.pid,
  };
  writePulumiState(home, state);
  if (state.backend.startsWith('file:')) mkdirSync(layout.backendDir, { recursive: true, mode: 0o700 });
  writeProject(layout.projectDir);
  const run: PulumiRunOptions = { pulumi, cwd: layout.projectDir, env: pulumiEnv(home, state, pulumi) };
  const finish = (phase: PulumiLabState['phase']) => {
    state.phase = phase;
    delete state.pid;
    writePulumiState(home, state);
  };

  try {
    // LABFORGE_NPM: the npm to install the project's packages with (tests point it at a stand-in).
    const npm = process.env.LABFORGE_NPM?.trim() || 'npm';
    progress(`installing the project's packages (${npm} install in ${layout.projectDir})`);
    const install = await runTool(npm, ['install', '--no-audit', '--no-fund'], { cwd: layout.projectDir, env: run.env });
    if (install.code !== 0 && !options.signal?.aborted)
      throw new ExternalError(
        `${npm} install failed in ${layout.projectDir} (exit code ${install.code})`,
        "see npm's messages above (the npm registry must be reachable)",
      );
    if (!options.signal?.aborted) {
      progress(`stack ${state.stack} on ${state.backend}`);
      await pulumiOrFail(['stack', 'select', '--create', state.stack, '--non-interactive'], run, 'see the messages above');
    }
    if (!options.signal?.aborted) {
      const up = await runTool(pulumi, ['up', '--yes', '--skip-preview', '--non-interactive', '--stack', state.stack], run);
      if (up.code !== 0 && !options.signal?.aborted) {
        throw new ExternalError(
          `pulumi up failed (${up.signal ?? `exit code ${up.code}`})`,
          `see the messages above; run \`labforge up\` again after fixing it, or \`labforge down ${d.name}\` to remove what was created`,
        );
      }
    }
  } catch (error) {
    finish(options.signal?.aborted ? 'interrupted' : 'failed');
    throw error;
  }
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const base = { name: d.name, level: d.lab.level, stack: state.stack, backend: state.backend, projectDir: layout.projectDir };
  if (options.signal?.aborted) {
    finish('interrupted');
    return { ...base, outputs: {}, secretOutputs: [], interrupted: true, seconds: seconds() };
  }
  finish('up');
  // Without --show-secrets pulumi prints each secret as "[secret]": those are listed by name only.
  const all = (await pulumiJson(['stack', 'output', '--json', '--stack', state.stack], run)) as Record<string, unknown>;
  const secretOutputs = Object.keys(all).filter((k) => all[k] === '[secret]');
  const outputs = Object.fromEntries(Object.entries(all).filter(([k]) => !secretOutputs.includes(k)));
  return { ...base, outputs, secretOutputs, interrupted: false, seconds: seconds() };
}

export interface PulumiTeardownReceipt {
  readonly lab: string;
  readonly target: 'pulumi';
  readonly stack: string;
  readonly backend: string;
  readonly ok: boolean;
  readonly seconds: number;
  /** False when `up` stopped before the stack was created: there was nothing to destroy. */
  readonly stackExisted: boolean;
  /** URNs `pulumi stack export` still lists after destroy (the stack itself and providers excepted). */
  readonly resourcesLeft: readonly string[];
  readonly stackRemoved: boolean;
  readonly directory: { readonly path: string; readonly removed: boolean };
  readonly leftovers: readonly string[];
}

interface StackExport {
  readonly deployment?: { readonly resources?: readonly { readonly urn: string; readonly type: string }[] };
}

/** What a destroyed stack may still list: the stack resource itself and provider instances. */
const isBookkeeping = (type: string) => type === 'pulumi:pulumi:Stack' || type.startsWith('pulumi:providers:');

export async function downPulumiLab(home: string, name: string, progress: (line: string) => void): Promise<PulumiTeardownReceipt> {
  const started = performance.now();
  const layout = pulumiLabLayout(home, name);
  const state = readPulumiState(home, name);
  refuseBusy(state);
  const leftovers: string[] = [];
  let stackExisted = false;
  let resourcesLeft: string[] = [];
  let stackRemoved = false;
  // The project is written before the first pulumi command: without it, pulumi never ran.
  if (existsSync(join(layout.projectDir, 'Pulumi.yaml'))) {
    const pulumi = findPulumi(`then run \`labforge down ${name}\` again; nothing was removed`);
    const run: PulumiRunOptions = { pulumi, cwd: layout.projectDir, env: pulumiEnv(home, state, pulumi) };
    const retry = `nothing of the lab's state was removed: run \`labforge down ${name}\` again`;
    const stacks = (await pulumiJson(['stack', 'ls', '--json'], run)) as { name: string }[];
    stackExisted = stacks.some((s) => s.name === state.stack || s.name.endsWith(`/${state.stack}`));
    if (stackExisted) {
      progress(`destroying stack ${state.stack} (${state.backend})`);
      await pulumiOrFail(['destroy', '--yes', '--non-interactive', '--stack', state.stack], run, retry);
      const exported = (await pulumiJson(['stack', 'export', '--stack', state.stack], run)) as StackExport;
      resourcesLeft = (exported.deployment?.resources ?? []).filter((r) => !isBookkeeping(r.type)).map((r) => r.urn);
      if (resourcesLeft.length === 0) {
        await pulumiOrFail(['stack', 'rm', '--yes', '--stack', state.stack], run, retry);
        stackRemoved = true;
      } else
        leftovers.push(
          `stack ${state.stack} still holds ${resourcesLeft.length} resource(s) after destroy; kept it and ${layout.dir}: run \`labforge down ${name}\` again`,
        );
    }
  }
  let removed = false;
  if (resourcesLeft.length === 0) {
    rmSync(layout.dir, { recursive: true, force: true });
    removed = !existsSync(layout.dir);
    if (!removed) leftovers.push(`${layout.dir} could not be removed`);
    removeHomeIfEmpty(home);
  }
  return {
    lab: name,
    target: 'pulumi',
    stack: state.stack,
    backend: state.backend,
    ok: resourcesLeft.length === 0 && removed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    stackExisted,
    resourcesLeft,
    stackRemoved,
    directory: { path: layout.dir, removed },
    leftovers,
  };
}

/** One `up` or `down` of a lab at a time: a live `up` still deploying it holds it. */
function refuseBusy(state: PulumiLabState): void {
  if (state.phase === 'deploying' && state.pid !== process.pid && isRunning(state.pid)) {
    throw new ExternalError(
      `lab '${state.name}' is busy: \`labforge up\` (pid ${state.pid}) is deploying it`,
      'wait for it to finish (or Ctrl-C it), then run the command again',
    );
  }
}

export interface PulumiLabStatus {
  readonly name: string;
  readonly level: Level;
  readonly target: 'pulumi';
  readonly stack: string;
  readonly backend: string;
  readonly state: string;
}

/** From the state file only: what the cloud holds now is `pulumi stack` business. */
export function statusPulumiLab(home: string, name: string): PulumiLabStatus {
  const s = readPulumiState(home, name);
  const state =
    s.phase === 'up'
      ? 'up'
      : s.phase === 'deploying' && isRunning(s.pid)
        ? 'deploying (labforge up is running)'
        : `${s.phase === 'failed' ? 'up failed' : 'up interrupted'}: \`labforge down ${name}\` removes it`;
  return { name, level: s.level, target: 'pulumi', stack: s.stack, backend: s.backend, state };
}

/** labforge probes AWS resources through no API: a pulumi lab's health is one failed check saying so. */
export function healthPulumiLab(home: string, name: string): { lab: string; target: 'pulumi'; ok: false; checks: ProbeResult[] } {
  const s = readPulumiState(home, name);
  const detail = `not available for a lab on AWS (target pulumi): labforge does not reach the cloud; the endpoints are in \`labforge up\`'s output and \`pulumi stack output\` in ${pulumiLabLayout(home, name).projectDir}`;
  return {
    lab: name,
    target: 'pulumi',
    ok: false,
    checks: [{ name: `cloud health checks (stack ${s.stack})`, ok: false, detail, ms: 0, attempts: 1 }],
  };
}

/** The lab's sensitive outputs, decrypted by pulumi (`labforge secrets`). */
/** The stack's outputs as `pulumi stack output` prints them, with or without the secret ones decrypted. */
async function stackOutputs(
  home: string,
  name: string,
  showSecrets: boolean,
): Promise<{ all: Record<string, unknown>; sensitive: string[] }> {
  const state = readPulumiState(home, name);
  const layout = pulumiLabLayout(home, name);
  if (!existsSync(join(layout.projectDir, 'Pulumi.yaml')))
    throw new ExternalError(`lab '${name}' has no Pulumi project yet`, `run \`labforge up ${state.level} --target pulumi --name ${name}\``);
  const pulumi = findPulumi(showSecrets ? 'pulumi decrypts the secret outputs' : 'pulumi reads the stack outputs');
  const run: PulumiRunOptions = { pulumi, cwd: layout.projectDir, env: pulumiEnv(home, state, pulumi) };
  const args = ['stack', 'output', '--json', ...(showSecrets ? ['--show-secrets'] : []), '--stack', state.stack];
  const all = (await pulumiJson(args, run)) as Record<string, unknown>;
  return {
    all,
    sensitive: getLab(state.level)
      .outputs.filter((o) => o.sensitive)
      .map((o) => o.name),
  };
}

/** The stack's non-secret outputs (connection info). */
export async function pulumiOutputs(home: string, name: string): Promise<Record<string, unknown>> {
  const { all, sensitive } = await stackOutputs(home, name, false);
  return Object.fromEntries(Object.entries(all).filter(([k]) => !sensitive.includes(k)));
}

/** The stack's secret outputs, decrypted by pulumi. */
export async function pulumiSecrets(home: string, name: string): Promise<Record<string, unknown>> {
  const { all, sensitive } = await stackOutputs(home, name, true);
  return Object.fromEntries(Object.entries(all).filter(([k]) => sensitive.includes(k)));
}
