// Shared by the synth and policy tests: synthesize a lab with the real engine into a temp
// directory, parse the Terraform JSON, and look things up in it by property.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthAws, type SynthesizedStack } from '../../constructs/aws/synth.js';
import { resolveDeployment, type DeploymentOptions, type LabDeployment } from '../../constructs/model/deployment.js';
import type { Level } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';

export type Props = Record<string, any>;

export interface TfJson {
  provider: Record<string, Props[]>;
  resource: Record<string, Record<string, Props>>;
  data?: Record<string, Record<string, Props>>;
  output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
  variable?: Record<string, Props>;
  locals?: Record<string, unknown>;
}

export interface TfJsonWithBackend extends TfJson {
  terraform?: { backend?: Record<string, Props> };
}

export interface Synthesized {
  readonly deployment: LabDeployment;
  /** The lab's (cluster) stack, `stacks/<lab>`. */
  readonly json: TfJson;
  /** What synthAws reported for the stack. */
  readonly resourceCount: number;
  /** The cluster-objects stack `stacks/<lab>-k8s`, for labs with a Kubernetes cluster. */
  readonly k8s?: TfJsonWithBackend;
  /** Every stack synthAws reported (name, file, resources), in its order. */
  readonly stacks: readonly SynthesizedStack[];
}

/** A fixed clock and owner so tags are predictable. */
export const NOW = new Date('2026-01-01T00:00:00Z');
export const OWNER = 'tester';
export const ALLOW_CIDR = '203.0.113.7/32';

export function synthLevel(level: Level, options: DeploymentOptions = {}): Synthesized {
  const deployment = resolveDeployment(getLab(level), { owner: OWNER, now: NOW, ...options });
  const dir = mkdtempSync(join(tmpdir(), 'labforge-synth-'));
  try {
    const stacks = synthAws([deployment], dir);
    const read = (name: string) => {
      const stack = stacks.find((s) => s.stack === name);
      return stack && (JSON.parse(readFileSync(stack.file, 'utf8')) as TfJsonWithBackend);
    };
    const cluster = stacks.find((s) => s.stack === deployment.name)!;
    return { deployment, json: read(deployment.name)!, resourceCount: cluster.resources, k8s: read(`${deployment.name}-k8s`), stacks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Found {
  /** `type.name`, as Terraform references it. */
  readonly address: string;
  readonly name: string;
  readonly props: Props;
}

export function resources(json: TfJson, type: string): Found[] {
  return Object.entries(json.resource[type] ?? {}).map(([name, props]) => ({ address: `${type}.${name}`, name, props }));
}

export function dataSources(json: TfJson, type: string): Found[] {
  return Object.entries(json.data?.[type] ?? {}).map(([name, props]) => ({ address: `data.${type}.${name}`, name, props }));
}

export function one(json: TfJson, type: string): Found {
  const found = resources(json, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
}

/** Does `value` (a string with `${...}`) reference the given resource address? */
export function refersTo(value: unknown, address: string): boolean {
  return typeof value === 'string' && value.includes(`\${${address}.`);
}

/** Terraform blocks may be an object or a one-element list depending on the schema. */
export function block(value: unknown): Props {
  return (Array.isArray(value) ? value[0] : value) as Props;
}

export interface Ingress {
  readonly source: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrs: string[];
  readonly securityGroups: string[];
  /** Address of the security group the rule belongs to (or its reference). */
  readonly group: string;
}

/** Every ingress rule in the stack, whichever of the three AWS provider shapes it uses. */
export function ingressRules(json: TfJson): Ingress[] {
  const rules: Ingress[] = [];
  for (const sg of resources(json, 'aws_security_group')) {
    for (const r of (sg.props.ingress ?? []) as Props[]) {
      rules.push({
        source: sg.address,
        fromPort: r.from_port,
        toPort: r.to_port,
        cidrs: [...(r.cidr_blocks ?? []), ...(r.ipv6_cidr_blocks ?? [])],
        securityGroups: r.security_groups ?? [],
        group: sg.address,
      });
    }
  }
  for (const r of resources(json, 'aws_security_group_rule').filter((x) => x.props.type === 'ingress')) {
    rules.push({
      source: r.address,
      fromPort: r.props.from_port,
      toPort: r.props.to_port,
      cidrs: [...(r.props.cidr_blocks ?? []), ...(r.props.ipv6_cidr_blocks ?? [])],
      securityGroups: r.props.source_security_group_id ? [r.props.source_security_group_id] : [],
      group: r.props.security_group_id,
    });
  }
  for (const r of resources(json, 'aws_vpc_security_group_ingress_rule')) {
    const all = r.props.ip_protocol === '-1';
    rules.push({
      source: r.address,
      fromPort: all ? 0 : r.props.from_port,
      toPort: all ? 65535 : r.props.to_port,
      cidrs: [r.props.cidr_ipv4, r.props.cidr_ipv6].filter((c): c is string => typeof c === 'string'),
      securityGroups: r.props.referenced_security_group_id ? [r.props.referenced_security_group_id] : [],
      group: r.props.security_group_id,
    });
  }
  return rules;
}

/** Ingress rules of the security group at `address`. */
export function ingressOf(json: TfJson, address: string): Ingress[] {
  return ingressRules(json).filter((r) => r.group === address || refersTo(r.group, address));
}

/** Every string anywhere in a JSON value. */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

/** Parsed IAM policy statements of an inline policy (Terraform references stay as strings). */
export function statements(policy: string): { Effect: string; Action: string[]; Resource: string[] }[] {
  const doc = JSON.parse(policy) as { Statement: { Effect: string; Action: string | string[]; Resource: string | string[] }[] };
  return doc.Statement.map((s) => ({
    Effect: s.Effect,
    Action: ([] as string[]).concat(s.Action),
    Resource: ([] as string[]).concat(s.Resource),
  }));
}

/** The provider a resource uses: `aws` (default) or `aws.<alias>`. */
export function providerOf(found: Found): string {
  return (found.props.provider as string | undefined) ?? 'aws';
}
