// `labforge up <level> --target aws`: synthesize the lab's stacks into its directory, init and plan
// the first, show the plan and its cost, ask, then apply the stacks in dependency order (the
// cluster stack, then `<lab>-k8s` planned once the clusters exist), read the outputs and probe
// what can be reached. The record is written before anything runs: whatever happens after it,
// `labforge down` removes what was created.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RetryPolicy } from '../../health/probe.js';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { backendRegion, describeBackend, sameBackend, type S3StateBackend } from '../model/backend.js';
import { costOfInventory } from '../model/cost.js';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError, UsageError } from '../model/errors.js';
import { existingCloudLab, generatePassword, removeHomeIfEmpty, writeFileAtomic } from '../model/home.js';
import type { Level } from '../model/types.js';
import { AwsClients, callerAccount, errorMessage, errorName } from '../aws-sdk/clients.js';
import { findTerraform, jsonOf, runJson, terraformEnv, type TerraformBinary, type TerraformMessage } from './binary.js';
import { emulatorSettings, excludeArgs, writeEmulatorOverride, type EmulatorSettings } from './emulator.js';
import { cloudHealth, type CloudCheck } from './health.js';
import { summarizePlan, type PlanJson, type PlanSummary } from './plan.js';
import { LabStates } from './stack-state.js';
import { AWS_STATE_VERSION, awsLabLayout, readAwsState, refuseBusy, writeAwsState, type AwsLabState } from './state.js';
import { noProgress } from '../model/quiet.js';

export interface AwsUpOptions {
  readonly deployment: LabDeployment;
  readonly home: string;
  readonly progress: (line: string) => void;
  /** Shown the first stack's plan (and what follows it); resolves true to apply. */
  readonly confirm: (plan: PlanPreview) => Promise<boolean>;
  /** Set when the user interrupted (Ctrl-C): tofu/terraform stops by itself, `up` after it. */
  readonly signal?: AbortSignal;
  /** Longest wait for the servers on a VM to answer (cloud-init installs them at first boot). */
  readonly healthTimeoutMs: number;
  /**
   * An `up` of an existing lab without a new --ttl keeps its expiry: a new one would change the
   * expires-at tag of every resource. @default false
   */
  readonly keepExpiry?: boolean;
  /** An `up` of an existing lab without --backend keeps the backend it was made with. @default false */
  readonly keepBackend?: boolean;
}

export interface PlanPreview {
  readonly lab: string;
  readonly account: string;
  readonly regions: readonly string[];
  readonly first: PlanSummary;
  /** Stacks planned only once the first is applied (they read its outputs), with their resource counts. */
  readonly later: readonly { readonly stack: string; readonly resources: number }[];
  readonly hourlyUsd: number;
  readonly expiresAt: string;
}

export interface AwsUpResult {
  readonly name: string;
  readonly level: Level;
  readonly account: string;
  readonly regions: readonly string[];
  readonly stacks: readonly string[];
  readonly dir: string;
  /** `s3://bucket/prefix/<lab>/` when the state is not in the lab's directory. */
  readonly backend?: string;
  /** `cancelled`: the user said no (nothing was created, nothing kept). */
  readonly outcome: 'up' | 'cancelled' | 'interrupted';
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Names of the outputs that are secret (`labforge secrets` prints them). */
  readonly secretOutputs: readonly string[];
  readonly health: readonly CloudCheck[];
  readonly hourlyUsd: number;
  readonly expiresAt: string;
  readonly seconds: number;
}

const LOCK = '-lock-timeout=120s';

export async function upAwsLab(options: AwsUpOptions): Promise<AwsUpResult> {
  const started = performance.now();
  const { deployment: d, home } = options;
  const layout = awsLabLayout(home, d.name);
  // Everything that can fail without the cloud fails before anything is created.
  const tf = findTerraform('nothing was created; `labforge synth <level> --target aws` writes the Terraform without it');
  const existing = existingCloudLab(home, d.name, d.lab.level, 'aws', () => readAwsState(home, d.name));
  if (existing) refuseBusy(existing);
  if (existing && options.keepExpiry) options = { ...options, deployment: { ...options.deployment, expiresAt: existing.expiresAt } };
  if (existing && options.keepBackend) options = { ...options, deployment: { ...options.deployment, backend: existing.backend } };
  if (existing && !sameBackend(existing.backend, options.deployment.backend)) {
    throw new UsageError(
      `lab '${d.name}' keeps its Terraform state in ${describeBackend(existing.backend, d.name)}; --backend would start a second one: leave --backend out, or \`labforge down ${d.name}\` first`,
    );
  }
  const emulator = emulatorSettings();
  const clients = new AwsClients({ endpoint: process.env.AWS_ENDPOINT_URL || emulator?.endpoint });
  try {
    const account = await accountAndBucket(clients, d.regions, options.deployment.backend);
    return await deploy({ ...options, tf, existing, emulator, clients, account, started, layout });
  } finally {
    clients.destroy();
  }
}

interface DeployContext extends AwsUpOptions {
  readonly tf: TerraformBinary;
  readonly existing?: AwsLabState;
  readonly emulator?: EmulatorSettings;
  readonly clients: AwsClients;
  readonly account: string;
  readonly started: number;
  readonly layout: ReturnType<typeof awsLabLayout>;
}

async function deploy(c: DeployContext): Promise<AwsUpResult> {
  const { deployment: d, home, progress, layout, tf } = c;
  const fresh = c.existing === undefined;
  mkdirSync(home, { recursive: true, mode: 0o755 });
  mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  const now = new Date().toISOString();
  const { synthAws } = await import('../aws/synth.js');
  let synthesized: Awaited<ReturnType<typeof synthAws>>;
  let hourlyUsd: number;
  try {
    synthesized = synthAws([d], layout.tfDir);
    hourlyUsd = await hourlyCost(d, synthesized[0]!.file);
  } catch (error) {
    if (fresh) rmSync(layout.dir, { recursive: true, force: true });
    throw error;
  }
  const stacks = synthesized.map((s) => s.stack);
  const state: AwsLabState = {
    version: AWS_STATE_VERSION,
    name: d.name,
    level: d.lab.level,
    target: 'aws',
    createdAt: c.existing?.createdAt ?? now,
    updatedAt: now,
    ...(c.existing?.appliedAt ? { appliedAt: c.existing.appliedAt } : {}),
    expiresAt: d.expiresAt,
    owner: d.owner,
    regions: d.regions,
    ...(d.allowCidr ? { allowCidr: d.allowCidr } : {}),
    hourlyUsd,
    binary: tf.path,
    stacks,
    ...(d.backend ? { backend: d.backend } : {}),
    phase: 'planning',
    pid: process.pid,
  };
  writeAwsState(home, state);
  const env = terraformEnv();
  const finish = (phase: AwsLabState['phase'], error?: string) => {
    state.phase = phase;
    delete state.pid;
    if (error) state.error = error;
    else delete state.error;
    writeAwsState(home, state);
  };
  // Before the first apply nothing exists in the cloud: a refusal, a failed plan or a Ctrl-C
  // leaves nothing behind, not even the directory (unless an earlier `up` made the lab).
  const undo = () => {
    if (!fresh) return finish(c.existing.phase);
    rmSync(layout.dir, { recursive: true, force: true });
    removeHomeIfEmpty(home);
  };
  const seconds = () => Math.round((performance.now() - c.started) / 100) / 10;
  const base = {
    name: d.name,
    level: d.lab.level,
    account: c.account,
    regions: d.regions,
    stacks,
    dir: layout.dir,
    ...(d.backend ? { backend: describeBackend(d.backend, d.name) } : {}),
    hourlyUsd,
    expiresAt: d.expiresAt,
  };
  const stopped = (outcome: 'cancelled' | 'interrupted'): AwsUpResult => ({
    ...base,
    outcome,
    outputs: {},
    secretOutputs: [],
    health: [],
    seconds: seconds(),
  });

  let preview: PlanPreview;
  try {
    for (const stack of stacks) writeEmulatorOverride(layout.stackDir(stack), c.emulator);
    const first = await initAndPlan(c, stacks[0]!, env);
    if (c.signal?.aborted) return (undo(), stopped('interrupted'));
    const later = synthesized.slice(1).map((s) => ({ stack: s.stack, resources: s.resources }));
    preview = { lab: d.name, account: c.account, regions: d.regions, first, later, hourlyUsd, expiresAt: d.expiresAt };
  } catch (error) {
    undo();
    throw error;
  }
  if (!(await c.confirm(preview))) return (undo(), stopped('cancelled'));

  state.phase = 'deploying';
  writeAwsState(home, state);
  try {
    for (const [i, stack] of stacks.entries()) {
      if (c.signal?.aborted) break;
      // Later stacks read the earlier ones' outputs: planned only now that those exist.
      const plan = i === 0 ? preview.first : await initAndPlan(c, stack, env);
      if (c.signal?.aborted) break;
      // Cost counts from the first resource created, also when the apply then fails.
      if (state.appliedAt === undefined) {
        state.appliedAt = new Date().toISOString();
        writeAwsState(home, state);
      }
      await apply(c, stack, plan.add + plan.change + plan.destroy, env);
    }
  } catch (error) {
    finish(c.signal?.aborted ? 'interrupted' : 'failed', (error as Error).message);
    throw error;
  } finally {
    for (const stack of stacks) protectState(layout.stackDir(stack));
  }
  if (c.signal?.aborted) {
    finish('interrupted');
    return stopped('interrupted');
  }
  finish('up');
  const states = new LabStates(home, state);
  const { values, secret } = await states.outputs().finally(() => states.close());
  if (d.allowCidr) progress(`probing the lab (servers on a VM get up to ${Math.round(c.healthTimeoutMs / 1000)}s to boot)`);
  const health = await cloudHealth({
    lab: d.lab,
    regions: d.regions,
    allowCidr: d.allowCidr,
    outputs: values,
    clients: c.clients,
    apiProbe: { email: `health@${d.name}.labforge.invalid`, password: probePassword(layout.dir) },
    vmPolicy: vmPolicy(c.healthTimeoutMs, c.signal),
    apiPolicy: { attempts: 3, timeoutMs: 10_000, deadlineMs: 30_000, signal: c.signal },
  });
  const shown = Object.fromEntries(Object.entries(values).filter(([k]) => !secret.includes(k)));
  return { ...base, outcome: 'up', outputs: shown, secretOutputs: secret, health, seconds: seconds() };
}

/** Probes of a VM's servers: many attempts, patient waits, up to the health timeout. */
export function vmPolicy(timeoutMs: number, signal?: AbortSignal): RetryPolicy {
  return { attempts: 1_000, timeoutMs: 5_000, initialDelayMs: 1_000, maxDelayMs: 10_000, deadlineMs: timeoutMs, signal };
}

/** The API probe's own account password: generated once per lab, kept 0600 beside its state. */
export function probePassword(labDir: string): string {
  const file = join(labDir, 'probe-password');
  if (!existsSync(file)) writeFileAtomic(file, `${generatePassword()}\n`, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/**
 * What every participant of an aws workshop needs, checked once before the workshop asks or
 * starts anything: tofu/terraform, credentials, and the `--backend` bucket. Returns the account.
 */
export async function checkAwsReady(regions: readonly string[], backend?: S3StateBackend): Promise<string> {
  findTerraform('nothing was created; `labforge workshop synth <level> --target aws` writes the Terraform without it');
  const clients = new AwsClients({ endpoint: process.env.AWS_ENDPOINT_URL || emulatorSettings()?.endpoint });
  try {
    return await accountAndBucket(clients, regions, backend);
  } finally {
    clients.destroy();
  }
}

/** The credentials' account, once the `--backend` bucket (if any) answers to them too. */
async function accountAndBucket(clients: AwsClients, regions: readonly string[], backend: S3StateBackend | undefined): Promise<string> {
  const account = await accountOrExplain(clients, regions[0]!);
  if (backend) await checkStateBucket(clients, backend, regions);
  return account;
}

/** The bucket `--backend` names answers to these credentials, before anything is created. */
async function checkStateBucket(clients: AwsClients, backend: S3StateBackend, regions: readonly string[]): Promise<void> {
  const region = backendRegion(backend, regions);
  try {
    await clients.s3(region).send(new HeadBucketCommand({ Bucket: backend.bucket }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const missing = status === 404 || errorName(error) === 'NotFound' || errorName(error) === 'NoSuchBucket';
    throw new ExternalError(
      missing
        ? `state bucket '${backend.bucket}' (--backend) does not exist`
        : `state bucket '${backend.bucket}' (--backend) cannot be reached in ${region}: ${status === 403 ? 'access denied' : errorMessage(error)}`,
      `${missing ? `create it first (\`aws s3 mb s3://${backend.bucket} --region ${region}\`, versioning on is best)` : 'check its region (?region=) and your access to it'}, or leave out --backend to keep the state in the lab's directory; nothing was created`,
      { cause: error },
    );
  }
}

/** The account the credentials belong to, or one line on what to set. */
async function accountOrExplain(clients: AwsClients, region: string): Promise<string> {
  try {
    return await callerAccount(clients, region);
  } catch (error) {
    if (!(error instanceof ExternalError)) throw error;
    const what =
      error.message === 'no AWS credentials found'
        ? 'set AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
        : (error.hint ?? 'see the message');
    throw new ExternalError(error.message, `${what}; nothing was created`, { cause: error });
  }
}

async function hourlyCost(d: LabDeployment, stackFile: string): Promise<number> {
  const { inventoryOfStackJson } = await import('../aws/inventory.js');
  return costOfInventory(inventoryOfStackJson(d, JSON.parse(readFileSync(stackFile, 'utf8')) as Parameters<typeof inventoryOfStackJson>[1]))
    .hourly;
}

/** `init` (output kept in init.log, shown on failure), then `plan -out=tfplan`, summarized. */
async function initAndPlan(c: DeployContext, stack: string, env: NodeJS.ProcessEnv): Promise<PlanSummary> {
  const dir = c.layout.stackDir(stack);
  // A stack after the first is planned once the first is applied: its failure leaves those resources.
  const hint = stack === c.deployment.name ? undefined : removeHint(c);
  c.progress(`${stack}: ${c.tf.flavor} init`);
  const init = await runJson(c.tf, ['init', '-input=false', LOCK], dir, env, noProgress);
  if (c.signal?.aborted) return summarizePlan(stack, {});
  if (init.code !== 0) throw failure(c, `${c.tf.flavor} init of stack ${stack}`, init.errors, init.messages, hint);
  c.progress(`${stack}: ${c.tf.flavor} plan`);
  const plan = await runJson(c.tf, ['plan', '-input=false', LOCK, '-out=tfplan', ...excludeArgs(dir, c.emulator)], dir, env, noProgress);
  if (c.signal?.aborted) return summarizePlan(stack, {});
  if (plan.code !== 0) throw failure(c, `${c.tf.flavor} plan of stack ${stack}`, plan.errors, plan.messages, hint);
  return summarizePlan(stack, await jsonOf<PlanJson>(c.tf, ['show', '-json', 'tfplan'], dir, env));
}

/** Applies the saved plan, one progress line per resource. */
async function apply(c: DeployContext, stack: string, total: number, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = c.layout.stackDir(stack);
  let done = 0;
  const onMessage = (m: TerraformMessage) => {
    if (m.type === 'apply_complete' && m.hook?.resource && !m.hook.resource.addr.startsWith('data.')) {
      done++;
      const verb = m.hook.action === 'delete' ? 'destroyed' : m.hook.action === 'update' ? 'updated' : 'created';
      c.progress(`${stack}: [${done}${total ? `/${total}` : ''}] ${verb} ${m.hook.resource.addr} (${m.hook.elapsed_seconds ?? 0}s)`);
    }
    if (m.type === 'apply_errored' && m.hook?.resource) c.progress(`${stack}: FAILED ${m.hook.resource.addr}`);
  };
  c.progress(`${stack}: ${c.tf.flavor} apply`);
  const r = await runJson(c.tf, ['apply', '-input=false', LOCK, '-auto-approve', 'tfplan'], dir, env, onMessage);
  if (r.code !== 0 && !c.signal?.aborted) throw failure(c, `${c.tf.flavor} apply of stack ${stack}`, r.errors, r.messages, removeHint(c));
}

function removeHint(c: DeployContext): string {
  return `run \`labforge up ${c.deployment.lab.level} --target aws --name ${c.deployment.name}\` again after fixing it, or \`labforge down ${c.deployment.name}\` to remove what was created`;
}

/** One line for the failure, the diagnostics as progress lines above it. */
function failure(
  c: DeployContext,
  what: string,
  errors: readonly string[],
  messages: readonly TerraformMessage[],
  hint?: string,
): ExternalError {
  const lines = errors.length > 0 ? errors : messages.filter((m) => m['@level'] === 'error').map((m) => m['@message']);
  for (const line of lines) c.progress(`  error: ${line}`);
  return new ExternalError(`${what} failed${lines[0] ? `: ${lines[0]}` : ''}`, hint ?? 'see the messages above; nothing was created');
}

/** Terraform state holds every generated secret: owner-only, like labforge's own files. */
function protectState(stackDir: string): void {
  for (const file of ['terraform.tfstate', 'terraform.tfstate.backup', 'tfplan']) {
    try {
      chmodSync(join(stackDir, file), 0o600);
    } catch {
      /* not written */
    }
  }
}
