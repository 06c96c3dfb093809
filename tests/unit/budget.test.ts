import { describe, expect, it } from 'vitest';
import { parseUsd } from '../../constructs/model/budget.js';
import { UsageError } from '../../constructs/model/errors.js';

describe('parseUsd', () => {
  it.each([
    ['50', 50],
    ['$50', 50],
    ['12.50', 12.5],
    ['$0.01', 0.01],
    [7, 7],
  ] as const)('%j -> %d', (value, amount) => expect(parseUsd('--max-cost', value)).toBe(amount));

  it.each(['0', '$0.00', '-5', '1e3', '12 USD', 'USD12', '$', '', ' 5', '5.', '.5', '0x10', 'Infinity', '$$5', undefined, -1])(
    'refuses %j with a UsageError naming the flag',
    (value) => {
      expect(() => parseUsd('--max-cost', value)).toThrow(UsageError);
      expect(() => parseUsd('--max-cost', value)).toThrow(/^bad --max-cost '.*' \(expected an amount in USD above 0/);
    },
  );
});
