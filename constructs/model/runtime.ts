// The one interface every target's runtime implements (local processes, k8s, aws through
// tofu/terraform, pulumi): what the commands and workshops call instead of branching on the
// target. Each engine exports an object of this shape; constructs/runtime/index.ts holds the
// lazily loaded table, so a command loads only the runtimes of the labs it touches. Plain types
// here, in the model, so that engines implement it without importing anything above them.
import type { ChaosAction, ChaosReport } from './chaos.js';
import type { LabSpec, Level, Target } from './types.js';
import type { Participant } from './workshop.js';

/** The outcome of one health check (health/ probes return it). */
export interface ProbeResult {
  /** What was checked, e.g. `db (postgres)`. */
  readonly name: string;
  readonly ok: boolean;
  /** On success what was seen (`SELECT 1 as learner`), on failure the last error. */
  readonly detail: string;
  /** Wall time of the whole check, retries included. */
  readonly ms: number;
  readonly attempts: number;
}

export type Progress = (line: string) => void;

/** One health check; cloud endpoints in private subnets are `private`: not probed, never passed. */
export type HealthCheck = ProbeResult & { readonly reach?: 'probed' | 'private' };

export interface HealthReport {
  readonly lab: string;
  readonly target?: Target;
  /** Every check that could run passed (and at least one could). */
  readonly ok: boolean;
  readonly checks: readonly HealthCheck[];
}

export interface SecretsReport {
  readonly lab: string;
  readonly target: Target;
  /** `label: value` lines in the order they are shown (user, password, URLs with passwords). */
  readonly entries: readonly (readonly [string, string])[];
  /** What `secrets --json` prints. */
  readonly json: Record<string, unknown>;
}

/** What every target's teardown receipt says, beside its own proof. */
export interface ReceiptBase {
  readonly lab: string;
  /** Nothing of the lab is left. */
  readonly ok: boolean;
  readonly seconds: number;
  /** What is left and why, one line each (empty when ok). */
  readonly leftovers: readonly string[];
}

export interface TargetRuntime<Status = unknown, Receipt extends ReceiptBase = ReceiptBase> {
  readonly target: Target;
  /** The labs of the home this runtime owns, by name. */
  labs(home: string): string[];
  status(home: string, name: string): Promise<Status>;
  health(home: string, name: string): Promise<HealthReport>;
  secrets(home: string, name: string): Promise<SecretsReport>;
  /** Removes the lab and proves what is left; an unreachable backend throws (with what to do). */
  down(home: string, name: string, progress: Progress): Promise<Receipt>;
  /** The failure drills of `labforge chaos`, on the targets that have them. */
  chaos?(home: string, name: string, action: ChaosAction): Promise<ChaosReport>;
  /** Present on the targets that run workshops. */
  readonly workshop?: WorkshopRuntime;
}

export interface ParticipantUpOptions {
  readonly home: string;
  readonly lab: LabSpec;
  readonly expiresAt: string;
  /** The cloud targets' lifetime, as `up --ttl` takes it. */
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
  /** Every check passed; undefined when nothing of the lab could be probed from here. */
  readonly healthy: boolean | undefined;
}

export interface SheetEntry {
  readonly participant: Participant;
  /** Addresses and URLs to connect to, by name. */
  readonly connection: readonly (readonly [string, string])[];
  /** Generated credentials, by name. */
  readonly secrets: readonly (readonly [string, string])[];
}

/** What a target needs to run a workshop: one lab per participant. */
export interface WorkshopRuntime {
  /**
   * Refuses, before anything is created, a workshop this machine or account cannot hold:
   * `toCreate` more labs of `level` beside the `existingLabs` of the home. Reads only.
   */
  checkCapacity?(level: Level, toCreate: number, existingLabs: number): void;
  /** What the account and tools must provide (credentials, a state bucket), checked once before anything is created. */
  preflight?(lab: LabSpec, backend?: string): Promise<void>;
  /** Brings one participant's lab up; resolves to a one-line summary, rejects with why not. */
  up(p: Participant, options: ParticipantUpOptions): Promise<string>;
  view(home: string, p: Participant): Promise<ParticipantView>;
  sheet(home: string, p: Participant): Promise<SheetEntry>;
}
