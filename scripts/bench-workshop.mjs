// Workshop figures for `npm run bench`: `workshop synth beginner --target aws` for 25, 50 and 100
// participants (one cdktf stack each, one App for all), and whether the time grows linearly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssUnder } from './bench-local.mjs';

/** What 100 participants may take. */
const LIMIT_100_MS = 10_000;
const SIZES = [25, 50, 100];

export function workshopBenchmarks({ bin, runs, medianMs }) {
  const out = mkdtempSync(join(tmpdir(), 'lf-bench-workshop-'));
  try {
    const ms = {};
    for (const n of SIZES) {
      const dir = join(out, String(n));
      // Each run writes a fresh directory, as a first synth of the workshop does.
      ms[n] = medianMs(
        `labforge workshop synth beginner --participants ${n}`,
        process.execPath,
        [bin, 'workshop', 'synth', 'beginner', '--participants', String(n), '--out', dir],
        {
          runs,
          before: () => rmSync(dir, { recursive: true, force: true }),
        },
      );
    }
    // Marginal cost per participant over each step: equal slopes mean linear growth (the rest is start-up).
    const slope = (a, b) => (ms[b] - ms[a]) / (b - a);
    const [early, late] = [slope(25, 50), slope(50, 100)];
    const linear = late <= early * 1.5;
    return [
      ...SIZES.map((n) => ({
        what: `\`labforge workshop synth beginner --participants ${n}\` (${n} stacks, aws)`,
        ms: ms[n],
        target: `${(ms[n] / n).toFixed(1)} ms per participant, start-up included`,
      })),
      {
        what: 'workshop synth: time per added participant (25→50, 50→100)',
        ms: ms[100],
        target: `${early.toFixed(1)} ms, ${late.toFixed(1)} ms: ${linear ? 'linear' : 'NOT linear'} (ratio ${(late / early).toFixed(2)}); 100 participants ${ms[100] <= LIMIT_100_MS ? '≤' : '>'} 10 s`,
      },
    ];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A local workshop of 10 beginners: `workshop up` to all healthy, the labs' memory, `workshop down`. */
export function localWorkshopBenchmarks({ bin, runs, medianMs }) {
  const home = mkdtempSync(join(tmpdir(), 'lf-bench-ws-'));
  const env = { LABFORGE_HOME: home };
  let rssMiB = 0;
  try {
    const up = medianMs(
      'labforge workshop up beginner --participants 10',
      process.execPath,
      [bin, 'workshop', 'up', 'beginner', '--participants', '10', '--name', 'bench'],
      {
        runs: Math.min(runs, 3),
        env,
        // Each run starts from nothing: the previous run's workshop goes first (untimed).
        before: () => {
          rssMiB = Math.max(rssMiB, rssUnder(home));
          spawnSync(process.execPath, [bin, 'workshop', 'down', 'bench'], { env: { ...process.env, ...env } });
        },
      },
    );
    rssMiB = Math.max(rssMiB, rssUnder(home));
    const down = medianMs('labforge workshop down (10 beginners)', process.execPath, [bin, 'workshop', 'down', 'bench'], {
      runs: 1,
      env,
    });
    return [
      {
        what: '`labforge workshop up beginner --participants 10` (local) → all healthy',
        ms: up,
        target: `4 at a time; the 10 labs' RSS after up: ${rssMiB.toFixed(0)} MiB`,
      },
      { what: '`labforge workshop down` (10 local beginners), one combined receipt', ms: down, target: '' },
    ];
  } finally {
    spawnSync(process.execPath, [bin, 'workshop', 'down', 'bench'], { env: { ...process.env, ...env } });
    rmSync(home, { recursive: true, force: true });
  }
}
