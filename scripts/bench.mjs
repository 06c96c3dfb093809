#!/usr/bin/env node
// `npm run bench`: measures what users wait for and writes docs/benchmarks.md.
// Each figure is the median of several runs of the built CLI as a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { awsBenchmarks } from './bench-aws.mjs';
import { k8sBenchmarks } from './bench-k8s.mjs';
import { localBenchmarks } from './bench-local.mjs';
import { localWorkshopBenchmarks, workshopBenchmarks } from './bench-workshop.mjs';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/labforge.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Runs a command `runs` times, returns the median wall time in ms; fails loudly on error. */
export function medianMs(label, command, args, { runs = RUNS, env = {}, cwd = ROOT, before } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    const started = process.hrtime.bigint();
    const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  process.stderr.write(`${label}: median ${median.toFixed(0)} ms over ${runs} runs\n`);
  return median;
}

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const os = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.+)"/)?.[1] ?? 'Linux';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os}, Node ${process.version}`;
}

function startupAndSynth() {
  const node = medianMs('node -e 0', process.execPath, ['-e', '0']);
  const help = medianMs('labforge --help', process.execPath, [BIN, '--help']);
  const list = medianMs('labforge list', process.execPath, [BIN, 'list']);
  const out = mkdtempSync(join(tmpdir(), 'lf-bench-'));
  const synthAll = medianMs('labforge synth all', process.execPath, [BIN, 'synth', 'all', '--out', join(out, 'labforge')]);
  const synthK8s = medianMs('labforge synth all --target k8s', process.execPath, [
    BIN,
    'synth',
    'all',
    '--target',
    'k8s',
    '--out',
    join(out, 'k8s'),
  ]);
  const synthPulumi = medianMs('labforge synth all --target pulumi', process.execPath, [
    BIN,
    'synth',
    'all',
    '--target',
    'pulumi',
    '--out',
    join(out, 'pulumi'),
  ]);
  const resourcesAws = medianMs('labforge resources expert', process.execPath, [BIN, 'resources', 'expert']);
  const resourcesPulumi = medianMs('labforge resources expert --target pulumi', process.execPath, [
    BIN,
    'resources',
    'expert',
    '--target',
    'pulumi',
  ]);
  const cost = medianMs('labforge cost expert', process.execPath, [BIN, 'cost', 'expert']);
  // The same app through cdktf-cli (cdktf.json), as a cdktf user would run it.
  const cdktfEnv = { CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true', CDKTF_DISABLE_TELEMETRY: '1' };
  const cdktf = medianMs('npx cdktf synth', join(ROOT, 'node_modules/.bin/cdktf'), ['synth', '--output', join(out, 'cdktf')], {
    env: cdktfEnv,
  });
  rmSync(out, { recursive: true, force: true });
  return [
    { what: '`node -e 0` (floor)', ms: node, target: '' },
    { what: '`labforge --help`', ms: help, target: `≤ 3× node: ${(help / node).toFixed(2)}×` },
    { what: '`labforge list`', ms: list, target: `${(list / node).toFixed(2)}× node` },
    {
      what: '`labforge synth all` (4 levels: 6 stacks + EKS manifests)',
      ms: synthAll,
      target: `${(cdktf / synthAll).toFixed(1)}× faster than one cdktf synth (target ≥ 3×)`,
    },
    { what: '`npx cdktf synth` (same app)', ms: cdktf, target: '' },
    {
      what: '`labforge synth all --target k8s` (advanced, expert manifests)',
      ms: synthK8s,
      target: `${(synthK8s / node).toFixed(1)}× node`,
    },
    {
      what: '`labforge synth all --target pulumi` (4 Pulumi projects, no Pulumi loaded)',
      ms: synthPulumi,
      target: `${(synthPulumi / node).toFixed(1)}× node`,
    },
    {
      what: '`labforge resources expert` (cdktf inventory, in memory)',
      ms: resourcesAws,
      target: `${(resourcesAws / node).toFixed(1)}× node`,
    },
    {
      what: '`labforge resources expert --target pulumi` (mock-monitor run)',
      ms: resourcesPulumi,
      target: `${(resourcesPulumi / node).toFixed(1)}× node`,
    },
    { what: '`labforge cost expert` (prices the cdktf inventory)', ms: cost, target: `${(cost / node).toFixed(1)}× node` },
  ];
}

const rows = [
  ...startupAndSynth(),
  ...workshopBenchmarks({ bin: BIN, runs: RUNS, medianMs }),
  ...(await localBenchmarks({ root: ROOT, bin: BIN, runs: RUNS, medianMs })),
  ...localWorkshopBenchmarks({ bin: BIN, runs: RUNS, medianMs }),
  ...(await awsBenchmarks({ root: ROOT, bin: BIN })),
  ...k8sBenchmarks({ root: ROOT }),
];
const lines = [
  '# Benchmarks',
  '',
  `Taken ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${machine()}.`,
  `Each figure is the median wall time of ${RUNS} runs of the built CLI as a child process.`,
  '',
  '| what | median | against the target |',
  '| --- | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${Number.isNaN(r.ms) ? '-' : r.ms >= 1000 ? `${(r.ms / 1000).toFixed(2)} s` : `${r.ms.toFixed(0)} ms`} | ${r.target} |`,
  ),
  '',
];
writeFileSync(join(ROOT, 'docs/benchmarks.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
