// A workshop's record: which level, target and how many participants, kept in
// `<home>/.workshops/<name>.json` (0600; the participants' labs are ordinary labs of the home).
// Written before the first participant starts, so an interrupted `workshop up` is still removable.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../model/errors.js';
import { writeFileAtomic } from '../model/home.js';
import type { Level } from '../model/types.js';
import { participants, type Participant } from '../model/workshop.js';

export const WORKSHOP_TARGETS = ['local', 'pulumi', 'aws'] as const;
export type WorkshopTarget = (typeof WORKSHOP_TARGETS)[number];

export interface WorkshopRecord {
  readonly version: 1;
  readonly name: string;
  readonly level: Level;
  readonly target: WorkshopTarget;
  readonly participants: number;
  readonly createdAt: string;
  /** When `reap` may remove the participants' labs. */
  readonly expiresAt: string;
  /** aws: `--backend` of every participant's Terraform state (`s3://...`); absent: local. */
  readonly backend?: string;
}

function dirOf(home: string): string {
  return join(home, '.workshops');
}

function fileOf(home: string, name: string): string {
  return join(dirOf(home), `${name}.json`);
}

export function writeWorkshop(home: string, record: WorkshopRecord): void {
  mkdirSync(dirOf(home), { recursive: true, mode: 0o700 });
  writeFileAtomic(fileOf(home, record.name), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

export function findWorkshop(home: string, name: string): WorkshopRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(home, name), 'utf8')) as WorkshopRecord;
  } catch {
    return undefined;
  }
}

export function listWorkshops(home: string): WorkshopRecord[] {
  if (!existsSync(dirOf(home))) return [];
  return readdirSync(dirOf(home))
    .filter((f) => f.endsWith('.json'))
    .map((f) => findWorkshop(home, f.slice(0, -'.json'.length)))
    .filter((r): r is WorkshopRecord => r !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The record of an existing workshop, or a one-line error naming the workshops there are. */
export function existingWorkshop(home: string, name: string): WorkshopRecord {
  const record = findWorkshop(home, name);
  if (record) return record;
  const known = listWorkshops(home).map((w) => w.name);
  throw new UsageError(
    `unknown workshop '${name}' in ${home} (${known.length > 0 ? `known workshops: ${known.join(', ')}` : 'no workshops there yet'})`,
  );
}

export function removeWorkshop(home: string, name: string): void {
  rmSync(fileOf(home, name), { force: true });
  if (existsSync(dirOf(home)) && readdirSync(dirOf(home)).length === 0) rmSync(dirOf(home), { recursive: true, force: true });
}

export function participantsOf(record: WorkshopRecord): Participant[] {
  return participants(record.name, record.participants);
}

/** Workshop name by participant lab name, for listings. */
export function workshopOfLab(home: string): Map<string, string> {
  const byLab = new Map<string, string>();
  for (const w of listWorkshops(home)) for (const p of participantsOf(w)) byLab.set(p.lab, w.name);
  return byLab;
}
