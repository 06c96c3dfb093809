// The local target's runtime: labs as real processes on this machine (the default target).
import { credentialLines } from '../model/credentials.js';
import { labsOfTarget } from '../model/home.js';
import type { TargetRuntime, WorkshopRuntime } from '../model/runtime.js';
import { checkLocalCapacity, LOCAL_FOOTPRINT, machineCapacity } from './capacity.js';
import { downLab, healthLab, labSecrets, statusLab, upLab, type LabStatus, type TeardownReceipt } from './lab.js';

const workshop: WorkshopRuntime = {
  checkCapacity(level, toCreate, existingLabs) {
    checkLocalCapacity(level, toCreate, machineCapacity(existingLabs * LOCAL_FOOTPRINT[level].ports));
  },
  async up(p, o) {
    const r = await upLab({
      name: p.lab,
      lab: o.lab,
      home: o.home,
      signal: o.signal,
      expiresAt: o.expiresAt,
      reservedPorts: o.reservedPorts,
    });
    const passed = r.health.filter((h) => h.ok).length;
    if (passed < r.health.length)
      throw new Error(
        `${r.health.length - passed} health check(s) fail: ${r.health
          .filter((h) => !h.ok)
          .map((h) => h.name)
          .join(', ')}`,
      );
    return `${passed}/${r.health.length} health checks pass${r.entryPoint ? `, ${r.entryPoint}` : ''}`;
  },
  async view(home, p) {
    const [status, health] = await Promise.all([statusLab(home, p.lab), healthLab(home, p.lab)]);
    const up = status.components.filter((c) => c.state === 'running').length;
    const state = up === status.components.length ? 'running' : up === 0 ? 'stopped' : `partly running (${up}/${status.components.length})`;
    const passed = health.checks.filter((c) => c.ok).length;
    return { state, health: `${passed}/${health.checks.length}`, healthy: health.ok };
  },
  async sheet(home, p) {
    const status = await statusLab(home, p.lab);
    const connection = status.components.filter((c) => c.port > 0).map((c) => [c.id, c.url] as const);
    const { secrets, urls } = labSecrets(home, p.lab);
    return { participant: p, connection, secrets: credentialLines(secrets, urls, true) };
  },
};

export const localRuntime: TargetRuntime<LabStatus, TeardownReceipt> = {
  target: 'local',
  labs: (home) => labsOfTarget(home, 'local'),
  status: statusLab,
  health: healthLab,
  async secrets(home, name) {
    const { secrets, urls } = labSecrets(home, name);
    return { lab: name, target: 'local', entries: credentialLines(secrets, urls), json: { lab: name, ...secrets, urls } };
  },
  down: (home, name) => downLab(home, name),
  chaos: async (home, name, action) => (await import('./chaos.js')).chaosLab(home, name, action),
  workshop,
};
