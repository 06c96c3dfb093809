// The one place that maps errors to exit codes and one-line messages, by their kind
// (constructs/model/errors.ts).
import { ExternalError, kindOf } from '../constructs/model/errors.js';

export const EXIT_OK = 0;
/** A lab is unhealthy, a tool is missing, a service failed, something was left behind. */
export const EXIT_FAILURE = 1;
/** Bad input: unknown level, target, region, lab; malformed CIDR, TTL, name. */
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export function exitCodeFor(error: unknown): number {
  return kindOf(error) === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
}

/** Prints one line (plus a hint line for external failures); the stack and causes only with --verbose. */
export function reportError(error: unknown, verbose: boolean): number {
  const kind = kindOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (kind === 'internal') {
    process.stderr.write(`labforge: internal error: ${message}${verbose ? '' : ' (run with --verbose for the stack trace)'}\n`);
  } else {
    process.stderr.write(`labforge: ${message}\n`);
    if (error instanceof ExternalError && error.hint) process.stderr.write(`  ${error.hint}\n`);
  }
  if (verbose) {
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      process.stderr.write(`${depth === 0 ? '' : 'caused by: '}${e.stack ?? e.message}\n`);
    }
  }
  return exitCodeFor(error);
}
