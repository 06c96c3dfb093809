// `status`, `health` and `secrets` of a lab on the aws target: the record says what was made and
// when; the stacks' Terraform state holds the outputs (secrets included, hence 0600 or the
// user's own bucket), read without tofu/terraform.
import { ExternalError } from '../model/errors.js';
import { getLab } from '../../labs/index.js';
import { AwsClients } from '../aws-sdk/clients.js';
import { emulatorSettings } from './emulator.js';
import { cloudHealth, type CloudCheck } from './health.js';
import { isRunning } from '../model/tool.js';
import { LabStates } from './stack-state.js';
import { awsLabLayout, readAwsState } from './state.js';
import { probePassword, vmPolicy } from './up.js';

export interface AwsLabStatus {
  readonly name: string;
  readonly level: string;
  readonly target: 'aws';
  readonly regions: readonly string[];
  readonly state: string;
  /** Resources in the Terraform state; null when it cannot be read (a bucket out of reach). */
  readonly resources: number | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Hours since the first apply finished (0 before it). */
  readonly hoursUp: number;
  readonly hourlyUsd: number;
  /** Estimated spend so far: hours up x the hourly estimate. */
  readonly costSoFarUsd: number;
  /** Where the Terraform state lives. */
  readonly backend: string;
}

export async function statusAwsLab(home: string, name: string, now = new Date()): Promise<AwsLabStatus> {
  const s = readAwsState(home, name);
  const states = new LabStates(home, s);
  let resources: number | null;
  let unreadable: string | undefined;
  try {
    resources = (await states.contents()).resources;
  } catch (error) {
    // One lab's bucket out of reach must not hide the other labs from `status`.
    if (!(error instanceof ExternalError)) throw error;
    [resources, unreadable] = [null, error.message];
  } finally {
    states.close();
  }
  const busy = (s.phase === 'deploying' || s.phase === 'planning') && isRunning(s.pid);
  // The last error: of the failed `up`, or of a `down` that could not finish (`down: ...`), or why the state cannot be read.
  const note = [s.error, unreadable]
    .filter(Boolean)
    .map((e) => ` (${e})`)
    .join('');
  const state =
    s.phase === 'up'
      ? `up${note}`
      : busy
        ? `${s.phase} (labforge up is running)`
        : resources === 0 && s.appliedAt === undefined
          ? `up ${s.phase === 'failed' ? 'failed' : 'stopped'} before anything was created${note}: \`labforge down ${name}\` clears it`
          : `${s.phase === 'failed' ? 'failed' : 'interrupted'}${note}: \`labforge down ${name}\` removes it`;
  const hoursUp = s.appliedAt ? Math.max(0, (now.getTime() - Date.parse(s.appliedAt)) / 3_600_000) : 0;
  return {
    name,
    level: s.level,
    target: 'aws',
    regions: s.regions,
    state,
    resources,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    hoursUp: Math.round(hoursUp * 100) / 100,
    hourlyUsd: s.hourlyUsd,
    costSoFarUsd: Math.round(hoursUp * s.hourlyUsd * 10_000) / 10_000,
    backend: states.where,
  };
}

async function outputsOf(home: string, name: string) {
  const s = readAwsState(home, name);
  const states = new LabStates(home, s);
  try {
    const { resources, values, secret } = await states.contents();
    if (resources === 0)
      throw new ExternalError(`lab '${name}' holds no resources yet`, `run \`labforge up ${s.level} --target aws --name ${name}\``);
    return { state: s, layout: awsLabLayout(home, name), values, secret };
  } finally {
    states.close();
  }
}

/** The lab's secret outputs (`labforge secrets`). */
export async function awsSecrets(home: string, name: string): Promise<Record<string, unknown>> {
  return (await awsOutputs(home, name)).secret;
}

/** The lab's outputs, split into those shown (connection info) and the secret ones. */
export async function awsOutputs(home: string, name: string): Promise<{ shown: Record<string, unknown>; secret: Record<string, unknown> }> {
  const { values, secret } = await outputsOf(home, name);
  const pick = (isSecret: boolean) => Object.fromEntries(Object.entries(values).filter(([k]) => secret.includes(k) === isSecret));
  return { shown: pick(false), secret: pick(true) };
}

export interface AwsHealthReport {
  readonly lab: string;
  readonly target: 'aws';
  /** At least one check could run and every one that ran passed (private ones count neither way). */
  readonly ok: boolean;
  readonly checks: readonly CloudCheck[];
}

export async function healthAwsLab(home: string, name: string): Promise<AwsHealthReport> {
  const { state, layout, values } = await outputsOf(home, name);
  const clients = new AwsClients({ endpoint: process.env.AWS_ENDPOINT_URL || emulatorSettings()?.endpoint });
  try {
    const checks = await cloudHealth({
      lab: getLab(state.level),
      regions: state.regions,
      allowCidr: state.allowCidr,
      outputs: values,
      clients,
      apiProbe: { email: `health@${name}.labforge.invalid`, password: probePassword(layout.dir) },
      vmPolicy: { ...vmPolicy(15_000), attempts: 3 },
      apiPolicy: { attempts: 2, timeoutMs: 10_000, deadlineMs: 20_000 },
    });
    const probed = checks.filter((c) => c.reach === 'probed');
    return { lab: name, target: 'aws', ok: probed.length > 0 && probed.every((c) => c.ok), checks };
  } finally {
    clients.destroy();
  }
}
