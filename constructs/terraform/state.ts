// What the aws target keeps per lab under the labforge home: `state.json` (labforge's own record)
// and `tf/` (the synthesized stacks; each stack's Terraform state beside its cdk.tf.json, unless
// the lab names an S3 backend). The record is written before anything runs, so an interrupted or
// failed `up` is always removable.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3StateBackend } from '../model/backend.js';
import { ExternalError } from '../model/errors.js';
import { writeFileAtomic } from '../model/home.js';
import { isRunning } from '../model/tool.js';
import type { Level } from '../model/types.js';

export const AWS_STATE_VERSION = 1;

export type AwsPhase = 'planning' | 'deploying' | 'up' | 'failed' | 'interrupted';

export interface AwsLabState {
  readonly version: number;
  readonly name: string;
  readonly level: Level;
  readonly target: 'aws';
  readonly createdAt: string;
  updatedAt: string;
  /** When the first apply finished: cost so far counts from here. */
  appliedAt?: string;
  /** When `reap` may remove the lab (ISO-8601 UTC); also its `labforge:expires-at` tag. */
  readonly expiresAt: string;
  readonly owner: string;
  readonly regions: readonly string[];
  readonly allowCidr?: string;
  /** Estimated USD per hour of what the lab creates (labforge's price table). */
  readonly hourlyUsd: number;
  /** The tofu/terraform binary of the first `up`. */
  readonly binary: string;
  /** Stacks in apply order (cluster first); `down` destroys them the other way round. */
  readonly stacks: readonly string[];
  /** Where the Terraform state lives when not beside the stacks (`--backend s3://...`). */
  readonly backend?: S3StateBackend;
  phase: AwsPhase;
  /** The labforge process running `up`, to tell "deploying now" from "interrupted". */
  pid?: number;
  /** What the last failure said, for `status`. */
  error?: string;
}

export function awsLabLayout(home: string, name: string) {
  const dir = join(home, name);
  const tfDir = join(dir, 'tf');
  return { dir, stateFile: join(dir, 'state.json'), tfDir, stackDir: (stack: string) => join(tfDir, 'stacks', stack) };
}

export function readAwsState(home: string, name: string): AwsLabState {
  return JSON.parse(readFileSync(awsLabLayout(home, name).stateFile, 'utf8')) as AwsLabState;
}

export function writeAwsState(home: string, state: AwsLabState): void {
  state.updatedAt = new Date().toISOString();
  writeFileAtomic(awsLabLayout(home, state.name).stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** One `up` or `down` of a lab at a time: a live `up` still deploying it holds it. */
export function refuseBusy(state: AwsLabState): void {
  if ((state.phase === 'deploying' || state.phase === 'planning') && state.pid !== process.pid && isRunning(state.pid)) {
    throw new ExternalError(
      `lab '${state.name}' is busy: \`labforge up\` (pid ${state.pid}) is deploying it`,
      'wait for it to finish (or Ctrl-C it), then run the command again',
    );
  }
}
