// The aws target's runtime: a lab's cdktf stacks applied by tofu/terraform (`up` is upAwsLab in
// up.ts; what a participant of a workshop runs is the same `up`, its plan approved once for all).
import { resolveDeployment } from '../model/deployment.js';
import { labsOfTarget } from '../model/home.js';
import { parseBackend } from '../model/backend.js';
import type { TargetRuntime, WorkshopRuntime } from '../model/runtime.js';
import { downAwsLab, type AwsTeardownReceipt } from './down.js';
import { awsOutputs, awsSecrets, healthAwsLab, statusAwsLab, type AwsLabStatus } from './target.js';
import { checkAwsReady, upAwsLab } from './up.js';
import { noProgress } from '../model/quiet.js';

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

const workshop: WorkshopRuntime = {
  async preflight(lab, backend) {
    await checkAwsReady(lab.regions.default, backend === undefined ? undefined : parseBackend(backend));
  },
  async up(p, o) {
    // The workshop asked once for the whole envelope: each participant's plan applies without asking.
    const deployment = resolveDeployment(o.lab, { name: p.lab, ttl: o.ttl, backend: o.backend });
    const r = await upAwsLab({
      deployment,
      home: o.home,
      progress: noProgress,
      signal: o.signal,
      healthTimeoutMs: 300_000,
      confirm: async () => true,
    });
    if (r.outcome !== 'up') throw new Error(r.outcome);
    const failed = r.health.filter((h) => h.reach === 'probed' && !h.ok);
    if (failed.length > 0) throw new Error(`${failed.length} health check(s) fail: ${failed.map((h) => h.name).join(', ')}`);
    return `${r.stacks.join(' + ')} applied, ${r.health.filter((h) => h.ok).length} reachable checks pass`;
  },
  async view(home, p) {
    const status = await statusAwsLab(home, p.lab);
    if (status.state !== 'up') return { state: status.state, health: '-', healthy: false };
    const health = await healthAwsLab(home, p.lab);
    const probed = health.checks.filter((c) => c.reach === 'probed');
    const healthy = probed.length === 0 ? undefined : health.ok;
    return {
      state: status.state,
      health: `${probed.filter((c) => c.ok).length}/${probed.length} (${health.checks.length - probed.length} private)`,
      healthy,
    };
  },
  async sheet(home, p) {
    const { shown, secret } = await awsOutputs(home, p.lab);
    return {
      participant: p,
      connection: Object.entries(shown).map(([k, v]) => [k, text(v)]),
      secrets: Object.entries(secret).map(([k, v]) => [k, text(v)]),
    };
  },
};

export const awsRuntime: TargetRuntime<AwsLabStatus, AwsTeardownReceipt> = {
  target: 'aws',
  labs: (home) => labsOfTarget(home, 'aws'),
  status: (home, name) => statusAwsLab(home, name),
  health: healthAwsLab,
  async secrets(home, name) {
    // The stacks' sensitive outputs, read from the Terraform state.
    const outputs = await awsSecrets(home, name);
    return {
      lab: name,
      target: 'aws',
      entries: Object.entries(outputs).map(([k, v]) => [k, text(v)]),
      json: { lab: name, target: 'aws', outputs },
    };
  },
  down: downAwsLab,
  workshop,
};
