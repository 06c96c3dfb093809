// Workshops: one lab per participant, named `<workshop>-p01`, `<workshop>-p02`, ... Every target
// (local processes, a cdktf stack, a Pulumi project) uses these names, so a participant's lab is
// an ordinary lab of its own that shares nothing with the others.
import { UsageError } from './errors.js';
import { parseLabName } from './options.js';

/** Most participants one workshop takes (names stay within the lab-name limit). */
export const MAX_PARTICIPANTS = 200;
/** Longest workshop name: room for `-p123` within the 24-character lab names. */
export const MAX_WORKSHOP_NAME = 19;

export interface Participant {
  /** `p01`...: two digits, three from 100 participants on. */
  readonly id: string;
  /** The participant's lab name: `<workshop>-<id>`. */
  readonly lab: string;
}

export function parseWorkshopName(value: string): string {
  if (value.length > MAX_WORKSHOP_NAME)
    throw new UsageError(
      `bad workshop name '${value}' (at most ${MAX_WORKSHOP_NAME} characters: participant labs are named '${value}-p01'...)`,
    );
  return parseLabName(value);
}

export function parseParticipants(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTICIPANTS) {
    throw new UsageError(`bad --participants '${String(value)}' (expected a whole number from 1 to ${MAX_PARTICIPANTS})`);
  }
  return n;
}

export function participants(workshop: string, count: number): Participant[] {
  const digits = count >= 100 ? 3 : 2;
  return Array.from({ length: count }, (_, i) => {
    const id = `p${String(i + 1).padStart(digits, '0')}`;
    return { id, lab: `${workshop}-${id}` };
  });
}

/** The participant `id` (`p07`, or `7`) of a workshop of `count`, or a one-line error naming the valid range. */
export function parseParticipant(workshop: string, count: number, value: string): Participant {
  const all = participants(workshop, count);
  const n = /^p?(\d{1,3})$/.exec(value)?.[1];
  const found = n === undefined ? undefined : all[Number(n) - 1];
  if (found === undefined)
    throw new UsageError(`no participant '${value}' in workshop '${workshop}' (valid: ${all[0]!.id}..${all[all.length - 1]!.id})`);
  return found;
}
