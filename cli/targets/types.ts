// What the CLI does per target, beside the runtime that does the work: `up` (each target has its
// own options, questions and Ctrl-C behaviour) and how its status rows and receipts read.
import type { AnyRuntime } from '../../constructs/runtime/index.js';
import type { LabSpec } from '../../constructs/model/types.js';

/** The options `up` takes, as yargs parsed them; each target reads the ones it owns. */
export interface UpOptions {
  readonly json?: boolean;
  readonly regions?: string;
  readonly 'latency-ms'?: string;
  readonly 'rabbitmq-management'?: boolean;
  readonly context?: string;
  readonly timeout?: string;
  readonly 'allow-cidr'?: string;
  readonly owner?: string;
  readonly ttl?: string;
  readonly yes?: boolean;
  readonly 'health-timeout'?: string;
  readonly backend?: string;
}

export interface UpRequest {
  readonly lab: LabSpec;
  readonly name: string;
  readonly options: UpOptions;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the status and receipt types are the runtime's own
export interface TargetCli<Status = any, Receipt = any> {
  readonly runtime: () => Promise<AnyRuntime>;
  /** Brings the lab up, prints its connection info, sets process.exitCode. */
  up(request: UpRequest): Promise<void>;
  /** One table of this target's labs (`labforge status`). */
  printStatus(labs: readonly Status[]): void;
  /** The teardown receipt as `labforge down` prints it. */
  printReceipt(receipt: Receipt): void;
  /** `workshop up`: what must be answered before anything is created (aws: the cost envelope). */
  confirmWorkshop?(request: WorkshopConfirmation): Promise<boolean>;
}

export interface WorkshopConfirmation {
  readonly lab: LabSpec;
  readonly participants: number;
  readonly ttl: string;
  readonly backend?: string;
  readonly yes: boolean;
}
