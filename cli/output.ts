// Results go to stdout, progress to stderr, so `--json` output stays machine-readable.

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Left-aligned columns, widths from the widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function usd(amount: number): string {
  return `$${amount < 10 ? amount.toFixed(3) : amount.toFixed(2)}`;
}

/** The level's exercises, numbered, each with its steps: the close of every `up`. */
export function printExercises(
  lab: { readonly exercises: readonly { id: string; title: string; steps: readonly string[] }[] },
  heading: string,
): void {
  print(heading);
  lab.exercises.forEach((e, i) => {
    print(`  ${i + 1}. ${e.title} (${e.id})`);
    for (const step of e.steps) print(`     - ${step}`);
  });
}
