// The error kinds (usage, external, internal), their exit codes, and the cause --verbose shows.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExternalError, kindOf, UsageError, ValidationError } from '../../constructs/model/errors.js';
import { exitCodeFor, reportError } from '../../cli/errors.js';

afterEach(() => vi.restoreAllMocks());

function stderrOf(run: () => void): string {
  let text = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((text += String(chunk)), true));
  run();
  return text;
}

describe('error kinds', () => {
  it('labforge errors say their kind; anything else is internal', () => {
    expect([new UsageError('x'), new ValidationError('x'), new ExternalError('x'), new Error('x'), 'text'].map(kindOf)).toEqual([
      'usage',
      'usage',
      'external',
      'internal',
      'internal',
    ]);
    expect([new UsageError('x'), new ExternalError('x'), new Error('x')].map(exitCodeFor)).toEqual([2, 1, 1]);
  });

  it('an external failure is one line and its hint; --verbose adds the stack and the cause it wraps', () => {
    const root = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const error = new ExternalError('db (postgres) did not answer', 'see the lab log', { cause: root });
    expect(stderrOf(() => reportError(error, false))).toBe('labforge: db (postgres) did not answer\n  see the lab log\n');
    const verbose = stderrOf(() => reportError(error, true));
    expect(verbose).toContain('ExternalError: db (postgres) did not answer');
    expect(verbose).toContain('caused by: Error: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('an internal error says so and points at --verbose', () => {
    expect(stderrOf(() => reportError(new Error('boom'), false))).toBe(
      'labforge: internal error: boom (run with --verbose for the stack trace)\n',
    );
  });
});
