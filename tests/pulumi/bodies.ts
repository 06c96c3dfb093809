// Whole resource bodies of both engines in one comparable shape, for the parity test: each
// resource as flat `path -> literal value` pairs.
//
// What differs only in spelling is normalized: Terraform's snake_case keys (camelized), a nested
// block written as a one-element array, a repeated block's singular name (`user` in Terraform,
// `users` in Pulumi), booleans as strings, and Pulumi's secret wrapper objects. What has no
// literal value before deployment (references to other resources) is left out on both sides.
import { labStackJson } from '../../constructs/aws/inventory.js';
import type { LabDeployment } from '../../constructs/model/deployment.js';
import { camelize, kindOfPulumiType } from '../../constructs/model/inventory.js';
import { registrations } from '../../constructs/pulumi/inventory.js';

/** Repeated blocks Terraform names in the singular and Pulumi in the plural. */
const PLURAL: Record<string, string> = {
  user: 'users',
  rule: 'rules',
  filter: 'filters',
  latencyRoutingPolicy: 'latencyRoutingPolicies',
  encryptionConfiguration: 'encryptionConfigurations',
};
/** Terraform meta-arguments, which Pulumi takes as resource options instead. */
const META = new Set(['provider', 'dependsOn', 'lifecycle', '//']);
/** The key Pulumi's serializer marks a secret value with. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';

type Flat = Record<string, unknown>;

function flatten(value: unknown, prefix: string, out: Flat): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && SECRET_SIG in value)
    value = (value as unknown as { value: unknown }).value;
  if (Array.isArray(value) && value.length === 1 && value[0] !== null && typeof value[0] === 'object') value = value[0];
  if (Array.isArray(value)) {
    if (value.length === 0) out[prefix] = [];
    value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (prefix === '' && META.has(k)) continue;
      const key = PLURAL[k] ?? k;
      flatten(v, prefix === '' ? key : `${prefix}.${key}`, out);
    }
  } else {
    out[prefix] = value === 'true' ? true : value === 'false' ? false : value;
  }
}

/** kind -> the flat bodies of its resources. */
export type Bodies = Map<string, Flat[]>;

function add(bodies: Bodies, kind: string, body: unknown): void {
  const flat: Flat = {};
  flatten(body, '', flat);
  bodies.set(kind, [...(bodies.get(kind) ?? []), flat]);
}

export function cdktfBodies(d: LabDeployment): Bodies {
  const bodies: Bodies = new Map();
  for (const [type, byName] of Object.entries(labStackJson(d).resource ?? {}))
    for (const body of Object.values(byName)) add(bodies, type, camelize(body));
  return bodies;
}

export async function pulumiBodies(d: LabDeployment): Promise<Bodies> {
  const bodies: Bodies = new Map();
  for (const r of await registrations(d))
    if (r.custom && !r.type.startsWith('pulumi:providers:')) add(bodies, kindOfPulumiType(r.type), r.inputs);
  return bodies;
}

const pattern = (path: string) => path.replace(/\.\d+(?=\.|$)/g, '.N');

/**
 * Per kind, each body as sorted `path=value` lines without the paths that hold a reference in
 * any cdktf body of that kind: the comparable part of both engines' resources.
 */
export function comparable(cdktf: Bodies, other: Bodies): { cdktf: Record<string, string[]>; other: Record<string, string[]> } {
  const result = { cdktf: {} as Record<string, string[]>, other: {} as Record<string, string[]> };
  for (const kind of new Set([...cdktf.keys(), ...other.keys()])) {
    const references = new Set<string>();
    for (const body of cdktf.get(kind) ?? []) {
      for (const [path, value] of Object.entries(body))
        if (typeof value === 'string' && value.includes('${')) references.add(pattern(path));
    }
    const lines = (bodies: Flat[] | undefined) =>
      (bodies ?? [])
        .map((body) =>
          Object.entries(body)
            .filter(([path]) => !references.has(pattern(path)))
            .map(([path, value]) => `${path}=${JSON.stringify(value)}`)
            .sort()
            .join(' '),
        )
        .sort();
    result.cdktf[kind] = lines(cdktf.get(kind));
    result.other[kind] = lines(other.get(kind));
  }
  return result;
}
