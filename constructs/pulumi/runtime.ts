// The pulumi target's runtime: a lab as a Pulumi project driven through the pulumi CLI (`up` is
// upPulumiLab in target.ts). labforge does not probe AWS: health says so.
import { resolveDeployment } from '../model/deployment.js';
import { labsOfTarget } from '../model/home.js';
import type { TargetRuntime, WorkshopRuntime } from '../model/runtime.js';
import {
  downPulumiLab,
  healthPulumiLab,
  pulumiOutputs,
  pulumiSecrets,
  statusPulumiLab,
  upPulumiLab,
  type PulumiLabStatus,
  type PulumiTeardownReceipt,
} from './target.js';
import { noProgress } from '../model/quiet.js';

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

const workshop: WorkshopRuntime = {
  async up(p, o) {
    const r = await upPulumiLab({
      deployment: resolveDeployment(o.lab, { name: p.lab, ttl: o.ttl }),
      home: o.home,
      progress: noProgress,
      signal: o.signal,
    });
    if (r.interrupted) throw new Error('interrupted');
    return `stack ${r.stack} up`;
  },
  async view(home, p) {
    return { state: statusPulumiLab(home, p.lab).state, health: 'not probed (AWS)', healthy: undefined };
  },
  async sheet(home, p) {
    const outputs = await pulumiOutputs(home, p.lab);
    const secrets = await pulumiSecrets(home, p.lab);
    return {
      participant: p,
      connection: Object.entries(outputs).map(([k, v]) => [k, text(v)]),
      secrets: Object.entries(secrets).map(([k, v]) => [k, text(v)]),
    };
  },
};

export const pulumiRuntime: TargetRuntime<PulumiLabStatus, PulumiTeardownReceipt> = {
  target: 'pulumi',
  labs: (home) => labsOfTarget(home, 'pulumi'),
  status: async (home, name) => statusPulumiLab(home, name),
  health: async (home, name) => healthPulumiLab(home, name),
  async secrets(home, name) {
    // Decrypted by pulumi.
    const outputs = await pulumiSecrets(home, name);
    return {
      lab: name,
      target: 'pulumi',
      entries: Object.entries(outputs).map(([k, v]) => [k, text(v)]),
      json: { lab: name, target: 'pulumi', outputs },
    };
  },
  down: downPulumiLab,
  workshop,
};
