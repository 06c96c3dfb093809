// Error classes that the CLI maps to exit codes and one-line messages (cli/errors.ts). Each says
// its kind: `usage` (the user asked for something that does not exist or is malformed: exit 2),
// `external` (something outside labforge failed or is missing: exit 1, with what to do), and
// anything else is `internal` (a bug: exit 1, the stack with --verbose). Wrapping errors keep the
// original as their `cause` (`new ExternalError(message, hint, { cause })`), which --verbose shows.

export type ErrorKind = 'usage' | 'external' | 'internal';

/** The user asked for something that does not exist or is malformed: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly kind: ErrorKind = 'usage';
}

/** A lab spec or construct is inconsistent (a catalog entry or a prop), named by its path: exit 2. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly kind: ErrorKind = 'usage';
}

/**
 * Something outside labforge failed or is missing (a tool, a service that did not start).
 * `hint` says what the user can do about it.
 */
export class ExternalError extends Error {
  override readonly name = 'ExternalError';
  readonly kind: ErrorKind = 'external';
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The kind of any thrown value: labforge's classes say theirs, everything else is a bug. */
export function kindOf(error: unknown): ErrorKind {
  return error instanceof UsageError || error instanceof ValidationError || error instanceof ExternalError ? error.kind : 'internal';
}

/** Builds the "bad value, valid choices" message used for every enumerated option. */
export function choiceError(field: string, value: unknown, choices: readonly string[]): UsageError {
  return new UsageError(`unknown ${field} '${String(value)}' (valid: ${choices.join(', ')})`);
}
