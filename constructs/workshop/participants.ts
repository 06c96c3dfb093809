// One participant's lab on each workshop target: bring it up, read its state and health, and the
// connection info and secrets its handout sheet shows. Runtimes are imported lazily: a local
// workshop never loads the Pulumi target, and the other way round.
import { resolveDeployment } from '../model/deployment.js';
import type { LabSpec } from '../model/types.js';
import type { Participant } from '../model/workshop.js';
import type { WorkshopTarget } from './record.js';

export interface ParticipantUpOptions {
  readonly home: string;
  readonly lab: LabSpec;
  readonly expiresAt: string;
  /** Pulumi: the AWS choices `synth` takes. */
  readonly ttl: string;
  /** aws: where the Terraform state lives (`s3://...`); absent: the lab's directory. */
  readonly backend?: string;
  readonly signal: AbortSignal;
  /** Ports promised to the labs starting alongside (local). */
  readonly reservedPorts: Set<number>;
}

export interface ParticipantView {
  /** running, stopped, partly running, missing, deploying, ... */
  readonly state: string;
  /** `3/3` checks passing, or why there is no figure. */
  readonly health: string;
  readonly healthy: boolean;
}

export interface SheetEntry {
  readonly participant: Participant;
  /** Addresses and URLs to connect to, by name. */
  readonly connection: readonly (readonly [string, string])[];
  /** Generated credentials, by name. */
  readonly secrets: readonly (readonly [string, string])[];
}

export async function upParticipant(target: WorkshopTarget, p: Participant, o: ParticipantUpOptions): Promise<string> {
  if (target === 'aws') {
    // The workshop asked once for the whole envelope: each participant's plan applies without asking.
    const { upAwsLab } = await import('../terraform/up.js');
    const deployment = resolveDeployment(o.lab, { name: p.lab, ttl: o.ttl, backend: o.backend });
    const r = await upAwsLab({ deployment, home: o.home, progress: () => {}, signal: o.signal, healthTimeoutMs: 300_000, confirm: async () => true });
    if (r.outcome !== 'up') throw new Error(r.outcome);
    const failed = r.health.filter((h) => h.reach === 'probed' && !h.ok);
    if (failed.length > 0) throw new Error(`${failed.length} health check(s) fail: ${failed.map((h) => h.name).join(', ')}`);
    return `${r.stacks.join(' + ')} applied, ${r.health.filter((h) => h.ok).length} reachable checks pass`;
  }
  if (target === 'pulumi') {
    const { upPulumiLab } = await import('../pulumi/target.js');
    const r = await upPulumiLab({ deployment: resolveDeployment(o.lab, { name: p.lab, ttl: o.ttl }), home: o.home, progress: () => {}, signal: o.signal });
    if (r.interrupted) throw new Error('interrupted');
    return `stack ${r.stack} up`;
  }
  const { upLab } = await import('../local/lab.js');
  const r = await upLab({ name: p.lab, lab: o.lab, home: o.home, signal: o.signal, expiresAt: o.expiresAt, reservedPorts: o.reservedPorts });
  const passed = r.health.filter((h) => h.ok).length;
  if (passed < r.health.length) throw new Error(`${r.health.length - passed} health check(s) fail: ${r.health.filter((h) => !h.ok).map((h) => h.name).join(', ')}`);
  return `${passed}/${r.health.length} health checks pass${r.entryPoint ? `, ${r.entryPoint}` : ''}`;
}

export async function viewParticipant(target: WorkshopTarget, home: string, p: Participant): Promise<ParticipantView> {
  const { labTarget } = await import('../model/home.js');
  if (labTarget(home, p.lab) === undefined) return { state: 'missing', health: '-', healthy: false };
  if (target === 'aws') {
    const { healthAwsLab, statusAwsLab } = await import('../terraform/target.js');
    const status = await statusAwsLab(home, p.lab);
    if (status.state !== 'up') return { state: status.state, health: '-', healthy: false };
    const health = await healthAwsLab(home, p.lab);
    const probed = health.checks.filter((c) => c.reach === 'probed');
    return { state: status.state, health: `${probed.filter((c) => c.ok).length}/${probed.length} (${health.checks.length - probed.length} private)`, healthy: health.ok };
  }
  if (target === 'pulumi') {
    const { statusPulumiLab } = await import('../pulumi/target.js');
    return { state: statusPulumiLab(home, p.lab).state, health: 'not probed (AWS)', healthy: false };
  }
  const { healthLab, statusLab } = await import('../local/lab.js');
  const [status, health] = await Promise.all([statusLab(home, p.lab), healthLab(home, p.lab)]);
  const up = status.components.filter((c) => c.state === 'running').length;
  const state = up === status.components.length ? 'running' : up === 0 ? 'stopped' : `partly running (${up}/${status.components.length})`;
  const passed = health.checks.filter((c) => c.ok).length;
  return { state, health: `${passed}/${health.checks.length}`, healthy: health.ok };
}

export async function sheetEntry(target: WorkshopTarget, home: string, p: Participant): Promise<SheetEntry> {
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (target === 'aws') {
    const { awsOutputs } = await import('../terraform/target.js');
    const { shown, secret } = await awsOutputs(home, p.lab);
    return { participant: p, connection: Object.entries(shown).map(([k, v]) => [k, value(v)]), secrets: Object.entries(secret).map(([k, v]) => [k, value(v)]) };
  }
  if (target === 'pulumi') {
    const { pulumiSecrets, pulumiOutputs } = await import('../pulumi/target.js');
    const outputs = await pulumiOutputs(home, p.lab);
    const secrets = await pulumiSecrets(home, p.lab);
    return { participant: p, connection: Object.entries(outputs).map(([k, v]) => [k, value(v)]), secrets: Object.entries(secrets).map(([k, v]) => [k, value(v)]) };
  }
  const { labSecrets, statusLab } = await import('../local/lab.js');
  const { secrets, urls } = labSecrets(home, p.lab);
  const status = await statusLab(home, p.lab);
  const connection = status.components.filter((c) => c.port > 0).map((c) => [c.id, c.url] as const);
  const creds: [string, string][] = [
    ['postgres user', secrets.postgres.user],
    ['postgres password', secrets.postgres.password],
  ];
  if (secrets.redis) creds.push(['redis password', secrets.redis.password]);
  if (secrets.rabbitmq) creds.push(['rabbitmq user', secrets.rabbitmq.user], ['rabbitmq password', secrets.rabbitmq.password]);
  for (const [id, url] of Object.entries(urls)) creds.push([`${id} url`, url]);
  return { participant: p, connection, secrets: creds };
}

/**
 * How far the participant is: exercises whose checks all pass, and checks passing, from a real
 * `check` run against their lab (local labs only: the cloud ones are not probed).
 */
export async function exerciseProgress(target: WorkshopTarget, home: string, p: Participant, appUrl?: string): Promise<string> {
  if (target !== 'local') return '- (not probed)';
  const { labTarget } = await import('../model/home.js');
  if (labTarget(home, p.lab) === undefined) return '-';
  const { localCheckContext } = await import('../exercises/context.js');
  const { exercisesToCheck, runChecks } = await import('../exercises/index.js');
  const ctx = localCheckContext(home, p.lab, { appUrl });
  const runs = await runChecks(ctx, exercisesToCheck(ctx.level));
  const exercises = [...new Set(runs.map((r) => r.exercise))];
  const done = exercises.filter((e) => runs.filter((r) => r.exercise === e).every((r) => r.ok)).length;
  return `${done}/${exercises.length} done (${runs.filter((r) => r.ok).length}/${runs.length} checks)`;
}
