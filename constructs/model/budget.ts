// Budgets (`--max-cost` on `cost` and `workshop synth`): a cost envelope (one lab's hourly cost x
// participants x hours) above the budget is refused before anything is written (cli/inventory.ts).
import { UsageError } from './errors.js';

/** `12`, `12.50`, `$12.50` -> 12.5. Strict: a positive decimal amount in USD, nothing else (no `1e3`, `-5`, `0`, `12 USD`). */
export function parseUsd(field: string, value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  const match = /^\$?(\d+(?:\.\d+)?)$/.exec(text);
  const amount = match ? Number(match[1]) : NaN;
  if (!Number.isFinite(amount) || amount <= 0) {
    throw new UsageError(`bad ${field} '${String(value)}' (expected an amount in USD above 0, such as 50 or $12.50)`);
  }
  return amount;
}
