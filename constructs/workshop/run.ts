// Workshop operations: every participant's lab up (K at a time, one failure stopping nobody
// else), their status, one participant reset, everything down with one combined receipt.
import { expiryAfter } from '../model/deployment.js';
import { UsageError } from '../model/errors.js';
import { labRecords } from '../model/home.js';
import type { LabSpec } from '../model/types.js';
import type { Participant } from '../model/workshop.js';
import { exerciseProgress, upParticipant, viewParticipant, workshopRuntime, type ParticipantView } from './participants.js';
import { forEachLimited } from './pool.js';
import { parseBackend, sameBackend } from '../model/backend.js';
import { findWorkshop, participantsOf, removeWorkshop, writeWorkshop, type WorkshopRecord, type WorkshopTarget } from './record.js';

export interface ParticipantOutcome {
  readonly participant: Participant;
  readonly ok: boolean;
  readonly detail: string;
  readonly seconds: number;
}

export interface WorkshopUpOptions {
  readonly home: string;
  readonly name: string;
  readonly lab: LabSpec;
  readonly target: WorkshopTarget;
  readonly participants: number;
  readonly ttl: string;
  /** aws: `--backend` for every participant; absent: the record's, else local. */
  readonly backend?: string;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  /** One line per participant as it finishes. */
  readonly progress: (line: string) => void;
}

/**
 * Refuses what cannot be done before anything is created: a workshop of another shape or state
 * backend, no room. Reads only: the CLI runs it before it asks anything.
 */
export async function planWorkshop(
  o: Pick<WorkshopUpOptions, 'home' | 'name' | 'lab' | 'target' | 'participants' | 'ttl' | 'backend'>,
): Promise<WorkshopRecord> {
  const existing = findWorkshop(o.home, o.name);
  if (existing && (existing.level !== o.lab.level || existing.target !== o.target || existing.participants !== o.participants)) {
    throw new UsageError(
      `workshop '${o.name}' exists with ${existing.participants} ${existing.level} participants on ${existing.target}; run \`labforge workshop down ${o.name}\` first or choose another --name`,
    );
  }
  if (
    existing &&
    o.backend !== undefined &&
    !sameBackend(parseBackend(o.backend), existing.backend === undefined ? undefined : parseBackend(existing.backend))
  ) {
    throw new UsageError(
      `workshop '${o.name}' keeps its Terraform state in ${existing.backend ?? 'local'}; leave --backend out, or run \`labforge workshop down ${o.name}\` first`,
    );
  }
  const taken = new Set(labRecords(o.home).map((r) => r.name));
  const mine = new Set(existing ? participantsOf(existing).map((p) => p.lab) : []);
  const record: WorkshopRecord = existing ?? {
    version: 1,
    name: o.name,
    level: o.lab.level,
    target: o.target,
    participants: o.participants,
    createdAt: new Date().toISOString(),
    expiresAt: expiryAfter(o.ttl),
    ...(o.backend !== undefined && parseBackend(o.backend) !== undefined ? { backend: o.backend } : {}),
  };
  const clash = participantsOf(record).find((p) => taken.has(p.lab) && !mine.has(p.lab));
  if (clash) throw new UsageError(`lab '${clash.lab}' already exists outside workshop '${o.name}'; remove it or choose another --name`);
  // Only the participants still to create need room (local: memory and ports of this machine).
  const toCreate = participantsOf(record).filter((p) => !taken.has(p.lab)).length;
  (await workshopRuntime(o.target)).checkCapacity?.(o.lab.level, toCreate, labRecords(o.home).length);
  return record;
}

export async function upWorkshop(
  o: WorkshopUpOptions,
): Promise<{ record: WorkshopRecord; outcomes: ParticipantOutcome[]; seconds: number }> {
  const started = performance.now();
  const record = await planWorkshop(o);
  o.progress(`workshop '${o.name}': ${record.participants} ${record.level} participant(s) on ${record.target}, ${o.concurrency} at a time`);
  // Recorded first: an interrupted `workshop up` is still removable by `workshop down`.
  writeWorkshop(o.home, record);
  const reservedPorts = new Set<number>();
  const all = participantsOf(record);
  const settled = await forEachLimited(
    all,
    o.concurrency,
    async (p) => {
      const t = performance.now();
      const seconds = () => Number(((performance.now() - t) / 1000).toFixed(2));
      try {
        const detail = await upParticipant(o.target, p, {
          home: o.home,
          lab: o.lab,
          expiresAt: record.expiresAt,
          ttl: o.ttl,
          backend: record.backend,
          signal: o.signal,
          reservedPorts,
        });
        o.progress(`  ${p.id}  ${p.lab.padEnd(24)} up      ${seconds()}s  ${detail}`);
        return { participant: p, ok: true, detail, seconds: seconds() };
      } catch (error) {
        const detail = (error as Error).message.split('\n')[0]!;
        o.progress(`  ${p.id}  ${p.lab.padEnd(24)} FAILED  ${seconds()}s  ${detail}`);
        return { participant: p, ok: false, detail, seconds: seconds() };
      }
    },
    o.signal,
  );
  const outcomes = settled.map((s, i): ParticipantOutcome =>
    s?.status === 'fulfilled' ? s.value : { participant: all[i]!, ok: false, detail: 'not started (interrupted)', seconds: 0 },
  );
  return { record, outcomes, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) };
}

export interface ParticipantStatus extends ParticipantView {
  readonly participant: Participant;
  /** Exercises checked done, once exercise checks exist. */
  readonly exercises: string;
}

export interface WorkshopStatusOptions {
  /** Run each participant's exercise checks (with this app URL for the app exercises). @default true */
  readonly exercises?: boolean;
  readonly appUrl?: string;
}

export async function workshopStatus(
  home: string,
  record: WorkshopRecord,
  options: WorkshopStatusOptions = {},
): Promise<ParticipantStatus[]> {
  const all = participantsOf(record);
  const views = await forEachLimited(all, 4, (p) => viewParticipant(record.target, home, p));
  // Checks of one lab run one after another; labs side by side (each check touches its own lab).
  const progress =
    options.exercises === false ? [] : await forEachLimited(all, 4, (p) => exerciseProgress(record.target, home, p, options.appUrl));
  return all.map((participant, i) => {
    const v = views[i];
    const view =
      v?.status === 'fulfilled'
        ? v.value
        : { state: `unreadable: ${(v?.reason as Error | undefined)?.message ?? '?'}`, health: '-', healthy: false };
    const e = progress[i];
    const exercises =
      options.exercises === false
        ? '-'
        : e?.status === 'fulfilled'
          ? e.value
          : `unchecked: ${(e?.reason as Error | undefined)?.message ?? '?'}`;
    return { participant, ...view, exercises };
  });
}

export interface WorkshopReceipt {
  readonly workshop: string;
  readonly ok: boolean;
  readonly labs: readonly {
    readonly participant: Participant;
    readonly existed: boolean;
    readonly ok: boolean;
    readonly seconds: number;
    readonly leftovers: readonly string[];
  }[];
  readonly seconds: number;
}

/** Removes every participant's lab (those that exist), then the record once nothing is left. */
export async function downWorkshop(
  home: string,
  record: WorkshopRecord,
  removeLab: (name: string) => Promise<{ ok: boolean; seconds: number; leftovers: readonly string[] }>,
  concurrency: number,
): Promise<WorkshopReceipt> {
  const started = performance.now();
  const existing = new Set(labRecords(home).map((r) => r.name));
  const all = participantsOf(record);
  const settled = await forEachLimited(all, concurrency, async (p) => {
    if (!existing.has(p.lab)) return { participant: p, existed: false, ok: true, seconds: 0, leftovers: [] };
    const r = await removeLab(p.lab);
    return { participant: p, existed: true, ok: r.ok, seconds: r.seconds, leftovers: r.leftovers };
  });
  const labs = settled.map((s, i) =>
    s?.status === 'fulfilled'
      ? s.value
      : { participant: all[i]!, existed: true, ok: false, seconds: 0, leftovers: [String((s?.reason as Error)?.message)] },
  );
  const ok = labs.every((l) => l.ok);
  if (ok) removeWorkshop(home, record.name);
  return { workshop: record.name, ok, labs, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) };
}
