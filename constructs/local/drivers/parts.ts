// The named processes, ports and links a driver reports: shared by the driver shape (types.ts)
// and the helpers every driver uses (context.ts).
import type { ProcessRecord } from '../proc.js';

export interface NamedProcess {
  /** `server` for the main process; helpers by their name (`epmd`). */
  readonly name: string;
  readonly record: ProcessRecord;
}

export interface NamedLink {
  readonly name: string;
  readonly url: string;
}

export interface NamedPort {
  /** `port` for the main one; others by their name (`dist`, `epmd`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}
