// The one place that maps errors to exit codes and one-line messages.
import { ExternalError, UsageError, ValidationError } from '../constructs/model/errors.js';

export const EXIT_OK = 0;
/** A lab is unhealthy, a tool is missing, a service failed, something was left behind. */
export const EXIT_FAILURE = 1;
/** Bad input: unknown level, target, region, lab; malformed CIDR, TTL, name. */
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ValidationError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** Prints one line (plus a hint line for external failures); the stack only with --verbose. */
export function reportError(error: unknown, verbose: boolean): number {
  const code = exitCodeFor(error);
  if (error instanceof UsageError || error instanceof ValidationError) {
    process.stderr.write(`labforge: ${error.message}\n`);
  } else if (error instanceof ExternalError) {
    process.stderr.write(`labforge: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  ${error.hint}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`labforge: internal error: ${message}${verbose ? '' : ' (run with --verbose for the stack trace)'}\n`);
  }
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return code;
}
