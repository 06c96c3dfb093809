// Consistency checks of a LabSpec. A catalog entry that breaks one is a bug, reported with the
// path of the bad field (`expert.components[db].shards: must be >= 1, got 0`).
import { ValidationError } from './errors.js';
import { COMPONENT_KINDS, type Component, type LabSpec } from './types.js';

const ID_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`);
}

function atLeast(path: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) fail(path, `must be a whole number >= ${min}, got ${value}`);
}

function validateComponent(lab: LabSpec, c: Component, ids: Set<string>): void {
  const at = `${lab.level}.components[${c.id}]`;
  if (!(COMPONENT_KINDS as readonly string[]).includes(c.kind)) fail(`${at}.kind`, `unknown kind '${String(c.kind)}'`);
  const refersTo = (field: string, id: string, kind?: Component['kind']) => {
    const target = lab.components.find((o) => o.id === id);
    if (!target) fail(`${at}.${field}`, `refers to unknown component '${id}' (known: ${[...ids].join(', ')})`);
    if (kind && target.kind !== kind) fail(`${at}.${field}`, `'${id}' is a ${target.kind}, expected a ${kind}`);
  };
  switch (c.kind) {
    case 'network':
      atLeast(`${at}.azs`, c.azs, 1);
      if (c.azs > 3) fail(`${at}.azs`, `must be <= 3, got ${c.azs}`);
      break;
    case 'vm':
      atLeast(`${at}.diskGb`, c.diskGb, 8);
      break;
    case 'postgres':
      atLeast(`${at}.shards`, c.shards, 1);
      atLeast(`${at}.replicas`, c.replicas, 0);
      if (c.hostVm) refersTo('hostVm', c.hostVm, 'vm');
      else atLeast(`${at}.storageGb`, c.storageGb, 20);
      if (c.replicas > 0 && lab.regions.min < 2) fail(`${at}.replicas`, 'replicas live in another region: the lab needs regions.min >= 2');
      break;
    case 'kafka':
      atLeast(`${at}.brokers`, c.brokers, 1);
      if (c.topics.length === 0) fail(`${at}.topics`, 'must list at least one topic');
      break;
    case 'kubernetes-cluster':
      atLeast(`${at}.minNodes`, c.minNodes, 1);
      if (c.desiredNodes < c.minNodes || c.desiredNodes > c.maxNodes) {
        fail(`${at}.desiredNodes`, `must be between minNodes ${c.minNodes} and maxNodes ${c.maxNodes}, got ${c.desiredNodes}`);
      }
      break;
    case 'load-balancer':
      refersTo('target', c.target, 'service');
      break;
    case 'service':
      atLeast(`${at}.instances`, c.instances, 1);
      if (c.program === 'api' && (c.port < 1024 || c.port > 65535)) fail(`${at}.port`, `must be 1024-65535, got ${c.port}`);
      c.uses.forEach((id, i) => refersTo(`uses[${i}]`, id));
      break;
    case 'registry':
      if (c.repositories.length === 0) fail(`${at}.repositories`, 'must list at least one repository');
      break;
    default:
      break;
  }
}

export function validateLabSpec(lab: LabSpec): LabSpec {
  const ids = new Set<string>();
  for (const c of lab.components) {
    if (!ID_PATTERN.test(c.id))
      fail(`${lab.level}.components[${c.id}].id`, 'must be 1-12 lowercase letters or digits, starting with a letter');
    if (ids.has(c.id)) fail(`${lab.level}.components[${c.id}].id`, 'is used twice');
    ids.add(c.id);
  }
  for (const c of lab.components) validateComponent(lab, c, ids);
  if (lab.components.filter((c) => c.kind === 'network').length !== 1) fail(`${lab.level}.components`, 'must have exactly one network');
  if (lab.skills.length === 0) fail(`${lab.level}.skills`, 'must list the seed skills of the level');
  atLeast(`${lab.level}.regions.min`, lab.regions.min, 1);
  if (lab.regions.default.length < lab.regions.min) {
    fail(`${lab.level}.regions.default`, `lists ${lab.regions.default.length} region(s), fewer than regions.min ${lab.regions.min}`);
  }
  lab.exercises.forEach((ex, i) => {
    ex.skills.forEach((s) => {
      if (s < 0 || s >= lab.skills.length) fail(`${lab.level}.exercises[${i}].skills`, `index ${s} is outside 0..${lab.skills.length - 1}`);
    });
  });
  return lab;
}

/** The components of one kind, narrowed. */
export function componentsOf<K extends Component['kind']>(lab: LabSpec, kind: K): Extract<Component, { kind: K }>[] {
  return lab.components.filter((c): c is Extract<Component, { kind: K }> => c.kind === kind);
}
