// Error classes that the CLI maps to exit codes and one-line messages (cli/errors.ts).

/** The user asked for something that does not exist or is malformed: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A lab spec or construct is inconsistent (a bug in a catalog entry or a prop): exit 2. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

/**
 * Something outside labforge failed or is missing (a tool, a service that did not start).
 * `hint` says what the user can do about it.
 */
export class ExternalError extends Error {
  override readonly name = 'ExternalError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Builds the "bad value, valid choices" message used for every enumerated option. */
export function choiceError(field: string, value: unknown, choices: readonly string[]): UsageError {
  return new UsageError(`unknown ${field} '${String(value)}' (valid: ${choices.join(', ')})`);
}
