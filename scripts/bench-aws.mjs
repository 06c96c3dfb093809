// aws-target figures for `npm run bench`: a beginner lab's `up --target aws --yes` and `down`, real
// OpenTofu and AWS provider against moto (the emulator tests' toolchain: scripts/emulator/build.sh),
// one run each. Without that toolchain the rows say how to get it instead of a figure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const MOTO = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'labforge/moto-5.2.5/bin/moto_server');

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function timed(label, bin, args, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.slice(-800)}`);
  process.stderr.write(`${label}: ${ms.toFixed(0)} ms (1 run)\n`);
  return ms;
}

export async function awsBenchmarks({ root, bin }) {
  const cached = spawnSync(join(root, 'scripts/emulator/build.sh'), ['--print-if-cached'], { encoding: 'utf8' });
  const dir = cached.stdout.trim();
  if (cached.status !== 0 || !existsSync(MOTO)) {
    const why = 'not measured: needs scripts/emulator/build.sh and scripts/setup.sh --test (moto)';
    return [{ what: '`labforge up beginner --target aws --yes` (tofu + AWS provider against moto)', ms: NaN, target: why }];
  }
  const port = await freePort();
  const moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_AMIS_PATH: join(root, 'tests/emulator/fixtures/amis.json') },
    stdio: 'ignore',
  });
  const home = mkdtempSync(join(tmpdir(), 'lf-bench-aws-'));
  try {
    const endpoint = `http://localhost:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${endpoint}/moto-api/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const env = {
      LABFORGE_HOME: home,
      LABFORGE_TF_BIN: join(dir, 'bin/tofu'),
      TF_CLI_CONFIG_FILE: join(dir, 'tofurc'),
      LABFORGE_TEST_AWS_EMULATOR: endpoint,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PROFILE: '',
    };
    const up = timed(
      'labforge up beginner --target aws --yes',
      bin,
      ['up', 'beginner', '--target', 'aws', '--yes', '--name', 'bench'],
      env,
    );
    const down = timed('labforge down bench (aws)', bin, ['down', 'bench'], env);
    const providers = readFileSync(join(dir, 'providers'), 'utf8').trim().replace(/\n/g, ', ');
    return [
      {
        what: '`labforge up beginner --target aws --yes` (15 resources; tofu + AWS provider against moto, 1 run)',
        ms: up,
        target: `init, plan, apply; ${providers}; on AWS the VM's boot adds minutes`,
      },
      { what: '`labforge down` of it (destroy + tag sweep, 1 run)', ms: down, target: 'destroy, state check, sweep of us-east-1' },
    ];
  } finally {
    moto.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  }
}
