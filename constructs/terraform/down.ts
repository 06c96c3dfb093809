// `labforge down <lab>` for the aws target: destroy the stacks in reverse apply order, retrying
// the dependency failures Kubernetes controllers cause (ENIs and load balancers they left in the
// VPC, security groups still in use) after sweeping those away; then prove from each stack's
// state and from a tag sweep of the lab's regions that nothing tagged with the lab is left. An S3
// backend's state objects go last, once they hold nothing.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import { runTool } from '../model/tool.js';
import { sweep, type SweepReceipt } from '../sweep/index.js';
import { findTerraform, runJson, terraformEnv, type TerraformBinary } from './binary.js';
import { emulatorSettings, excludeArgs, writeEmulatorOverride } from './emulator.js';
import { removeHomeIfEmpty } from '../model/home.js';
import { LabStates } from './stack-state.js';
import { awsLabLayout, readAwsState, refuseBusy, writeAwsState, type AwsLabState } from './state.js';
import { noProgress } from '../model/quiet.js';

export interface StackTeardown {
  readonly stack: string;
  /** Resources the state recorded before destroy (`type.name`). */
  readonly destroyed: readonly string[];
  /** Resources the state still records after the last try. */
  readonly left: readonly string[];
  readonly attempts: number;
  /** The last try's first error, when something is left. */
  readonly error?: string;
  /**
   * Objects inside the clusters (a `-k8s` stack) that could not be destroyed through the cluster
   * API but went with the clusters themselves: removed from the state once those were destroyed.
   */
  readonly wentWithClusters?: readonly string[];
}

export interface AwsTeardownReceipt {
  readonly lab: string;
  readonly target: 'aws';
  readonly ok: boolean;
  readonly seconds: number;
  readonly stacks: readonly StackTeardown[];
  /** The tag sweep after destroy: what it found still tagged with the lab, deleted or left. */
  readonly sweep?: Pick<SweepReceipt, 'ok' | 'counts' | 'resources' | 'listingFailures' | 'regions'>;
  /** Why the sweep could not run, when it could not. */
  readonly sweepError?: string;
  readonly directory: { readonly path: string; readonly removed: boolean };
  /** `--backend s3://...`: the state objects' place, and whether they were deleted. */
  readonly remoteState?: { readonly location: string; readonly removed: boolean };
  readonly leftovers: readonly string[];
}

/** Failures that a later try gets past once what blocks the delete is gone. */
const DEPENDENCY_FAILURE =
  /DependencyViolation|has (a )?dependen|in use|InvalidNetworkInterface|network interface|load balancer|ResourceInUse|being used|Cannot delete|still has|mapped public address/i;

export const DESTROY_ATTEMPTS = 3;

export async function downAwsLab(home: string, name: string, progress: (line: string) => void): Promise<AwsTeardownReceipt> {
  const state = readAwsState(home, name);
  refuseBusy(state);
  const states = new LabStates(home, state);
  try {
    return await teardown(home, state, states, progress);
  } finally {
    states.close();
  }
}

async function teardown(
  home: string,
  state: AwsLabState,
  states: LabStates,
  progress: (line: string) => void,
): Promise<AwsTeardownReceipt> {
  const started = performance.now();
  const name = state.name;
  const layout = awsLabLayout(home, name);
  const emulator = emulatorSettings();
  const endpoint = process.env.AWS_ENDPOINT_URL || emulator?.endpoint;
  const held = new Map<string, string[]>();
  for (const stack of state.stacks) held.set(stack, await states.addresses(stack));
  const withState = state.stacks.filter((s) => held.get(s)!.length > 0);
  // Only a stack with resources needs the binary; an `up` stopped before apply needs none.
  const tf = withState.length > 0 ? findTerraform(`then run \`labforge down ${name}\` again; nothing was removed`) : undefined;
  const env = tf ? terraformEnv() : process.env;
  const stacks: StackTeardown[] = [];
  for (const stack of [...state.stacks].reverse()) {
    const dir = layout.stackDir(stack);
    const before = held.get(stack)!;
    if (before.length === 0) continue;
    writeEmulatorOverride(dir, emulator);
    stacks.push(
      await destroyStack(
        tf!,
        stack,
        dir,
        env,
        before,
        { name, regions: state.regions, endpoint, progress, states },
        excludeArgs(dir, emulator),
      ),
    );
  }
  await forgetWhatWentWithTheClusters(tf, state.stacks[0]!, stacks, (stack) => layout.stackDir(stack), env, progress, states);
  const left = stacks.flatMap((s) => s.left);

  // Proof beyond the state files: nothing in the lab's regions carries its tag. Also removes
  // what an interrupted apply created but never recorded.
  let swept: SweepReceipt | undefined;
  let sweepError: string | undefined;
  if (state.appliedAt !== undefined || withState.length > 0 || state.phase !== 'planning') {
    progress(`sweeping ${state.regions.join(', ')} for resources tagged labforge:lab=${name}`);
    try {
      swept = await sweep({ filter: { lab: name }, regions: state.regions, apply: true, endpoint, progress });
    } catch (error) {
      sweepError = (error as Error).message;
    }
  }
  const leftovers: string[] = [];
  if (left.length > 0)
    leftovers.push(
      `${left.length} resource(s) still in the Terraform state (${left.slice(0, 3).join(', ')}${left.length > 3 ? ', ...' : ''}): kept ${layout.dir}; run \`labforge down ${name}\` again`,
    );
  if (sweepError)
    leftovers.push(
      `the tag sweep could not run (${sweepError}): run \`labforge sweep --lab ${name} --region ${state.regions.join(' --region ')}\` to check`,
    );
  const sweptLeft = swept?.resources.filter((r) => r.status === 'left' || r.status === 'unverified') ?? [];
  if (sweptLeft.length > 0)
    leftovers.push(
      `${sweptLeft.length} resource(s) tagged with the lab are still there: ${sweptLeft.map((r) => `${r.kind} ${r.id} (${r.reason ?? r.status})`).join('; ')}`,
    );

  let ok = left.length === 0 && sweepError === undefined && (swept === undefined || swept.ok);
  // The bucket keeps nothing of a removed lab: its (now empty) state objects go too.
  let remoteRemoved = false;
  if (ok && state.backend) {
    const notDeleted = await states.removeRemote();
    remoteRemoved = notDeleted.length === 0;
    if (!remoteRemoved) {
      leftovers.push(`the lab's state objects could not be deleted: ${notDeleted.join('; ')}`);
      ok = false;
    }
  }
  let removed = false;
  if (ok) {
    rmSync(layout.dir, { recursive: true, force: true });
    removed = !existsSync(layout.dir);
    if (!removed) leftovers.push(`${layout.dir} could not be removed`);
    removeHomeIfEmpty(home);
  } else {
    // The phase stays what `up` left; the error says what `down` could not do.
    state.error = `down: ${leftovers[0]}`;
    writeAwsState(home, state);
  }
  return {
    lab: name,
    target: 'aws',
    ok: ok && removed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    stacks,
    ...(swept
      ? {
          sweep: {
            ok: swept.ok,
            counts: swept.counts,
            resources: swept.resources,
            listingFailures: swept.listingFailures,
            regions: swept.regions,
          },
        }
      : {}),
    ...(sweepError ? { sweepError } : {}),
    directory: { path: layout.dir, removed },
    ...(state.backend ? { remoteState: { location: states.where, removed: remoteRemoved } } : {}),
    leftovers,
  };
}

/**
 * A `-k8s` stack whose destroy failed (cluster API unreachable, credentials gone) holds only
 * objects inside the EKS clusters: once the cluster stack is destroyed they are gone with the
 * clusters, so they leave its state (`state rm`) instead of keeping the lab forever.
 */
async function forgetWhatWentWithTheClusters(
  tf: TerraformBinary | undefined,
  clusterStack: string,
  stacks: StackTeardown[],
  dirOf: (stack: string) => string,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
  states: LabStates,
): Promise<void> {
  // The clusters are gone once the cluster stack's state is empty (destroyed now, or before).
  if (tf === undefined || (await states.addresses(clusterStack)).length > 0) return;
  for (const [i, s] of stacks.entries()) {
    if (s.stack === clusterStack || s.left.length === 0) continue;
    const dir = dirOf(s.stack);
    // Objects in the clusters, and random_* values that exist in this state only.
    const gone = s.left.filter((a) => a.startsWith('kubernetes_') || a.startsWith('random_'));
    if (gone.length === 0) continue;
    progress(
      `${s.stack}: the clusters are destroyed, and the ${gone.length} object(s) of this stack with them: removing those from its state`,
    );
    const r = await runTool(tf.path, ['state', 'rm', '-lock-timeout=120s', ...gone], { cwd: dir, env, capture: true });
    if (r.code !== 0) continue;
    stacks[i] = { ...s, left: await states.addresses(s.stack), wentWithClusters: gone };
  }
}

interface SweepContext {
  readonly name: string;
  readonly regions: readonly string[];
  readonly endpoint?: string;
  readonly progress: (line: string) => void;
  readonly states: LabStates;
}

async function destroyStack(
  tf: TerraformBinary,
  stack: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  before: readonly string[],
  ctx: SweepContext,
  excludes: readonly string[],
): Promise<StackTeardown> {
  let error: string | undefined;
  let attempts = 0;
  for (let attempt = 1; attempt <= DESTROY_ATTEMPTS; attempt++) {
    attempts = attempt;
    ctx.progress(
      `${stack}: ${tf.flavor} destroy (${before.length} resources${attempt > 1 ? `, try ${attempt} of ${DESTROY_ATTEMPTS}` : ''})`,
    );
    // init again: a lab made by an older labforge, or a moved directory, may lack .terraform.
    if (!existsSync(join(dir, '.terraform'))) {
      const init = await runJson(tf, ['init', '-input=false'], dir, env, noProgress);
      if (init.code !== 0)
        return {
          stack,
          destroyed: [],
          left: before,
          attempts: attempt,
          error: `${tf.flavor} init failed: ${init.errors[0] ?? `exit code ${init.code}`}`,
        };
    }
    let done = 0;
    const r = await runJson(tf, ['destroy', '-input=false', '-lock-timeout=120s', '-auto-approve', ...excludes], dir, env, (m) => {
      if (m.type === 'apply_complete' && m.hook?.resource && !m.hook.resource.addr.startsWith('data.'))
        ctx.progress(`${stack}: [${++done}/${before.length}] destroyed ${m.hook.resource.addr} (${m.hook.elapsed_seconds ?? 0}s)`);
    });
    const left = await ctx.states.addresses(stack);
    if (r.code === 0 && left.length === 0) return { stack, destroyed: before, left, attempts: attempt };
    error = r.errors[0] ?? `${tf.flavor} destroy exited with ${r.signal ?? `code ${r.code}`}`;
    for (const e of r.errors) ctx.progress(`${stack}:   error: ${e}`);
    if (attempt === DESTROY_ATTEMPTS || !r.errors.some((e) => DEPENDENCY_FAILURE.test(e))) break;
    // What blocks the delete is usually not in the state: ENIs, load balancers and their
    // security groups a Kubernetes controller made in the lab's VPC. The sweep finds those.
    ctx.progress(
      `${stack}: a dependency blocks the destroy; sweeping what Kubernetes controllers left in the lab's VPCs, then trying again`,
    );
    try {
      await sweep({
        filter: { lab: ctx.name },
        regions: ctx.regions,
        apply: true,
        endpoint: ctx.endpoint,
        progress: ctx.progress,
        passes: 1,
      });
    } catch (sweepError) {
      if (!(sweepError instanceof ExternalError)) throw sweepError;
      ctx.progress(`${stack}: sweep failed: ${sweepError.message}`);
    }
  }
  const left = await ctx.states.addresses(stack);
  return { stack, destroyed: before.filter((a) => !left.includes(a)), left, attempts, error };
}
