// Every `${...}` reference in the Terraform JSON must name something the stack declares:
// a dangling reference would only show up at `terraform plan`.
import { beforeAll, describe, expect, it } from 'vitest';
import { LEVELS } from '../../constructs/model/types.js';
import { allStrings, synthLevel, type TfJson } from './helpers.js';

interface Declared {
  readonly resources: Set<string>;
  readonly data: Set<string>;
  readonly variables: Set<string>;
  readonly locals: Set<string>;
  readonly providers: Set<string>;
}

function declared(json: TfJson): Declared {
  const pairs = (blocks: Record<string, Record<string, unknown>> | undefined) =>
    new Set(Object.entries(blocks ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)));
  return {
    resources: pairs(json.resource),
    data: pairs(json.data),
    variables: new Set(Object.keys(json.variable ?? {})),
    locals: new Set(Object.keys(json.locals ?? {})),
    providers: new Set(
      Object.entries(json.provider).flatMap(([name, configs]) => configs.map((c) => (c.alias ? `${name}.${c.alias}` : name))),
    ),
  };
}

/** The bodies of unescaped `${...}` interpolations (`$${` is a literal in Terraform). */
function interpolations(text: string): string[] {
  const found: string[] = [];
  const re = /(?<!\$)\$\{/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let depth = 1;
    let i = m.index + 2;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    found.push(text.slice(m.index + 2, i - 1));
  }
  return found;
}

/** Names referenced by one expression, with quoted strings removed first. */
function references(expression: string): string[] {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const refs: string[] = [];
  for (const m of code.matchAll(/(?<![\w.-])data\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)/g)) refs.push(`data.${m[1]}.${m[2]}`);
  for (const m of code.matchAll(/(?<![\w.-])(var|local)\.([A-Za-z_][\w-]*)/g)) refs.push(`${m[1]}.${m[2]}`);
  for (const m of code.matchAll(/(?<![\w.-])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g)) refs.push(`${m[1]}.${m[2]}`);
  return refs;
}

function dangling(json: TfJson): { refs: number; missing: string[] } {
  const d = declared(json);
  const missing: string[] = [];
  let refs = 0;
  const check = (ref: string) => {
    refs++;
    const ok = ref.startsWith('data.')
      ? d.data.has(ref.slice(5))
      : ref.startsWith('var.')
        ? d.variables.has(ref.slice(4))
        : ref.startsWith('local.')
          ? d.locals.has(ref.slice(6))
          : d.resources.has(ref);
    if (!ok) missing.push(ref);
  };
  // Provider blocks too: the cluster-objects stack configures its providers from remote state.
  const bodies = [json.resource, json.data ?? {}, json.output ?? {}, json.provider];
  for (const text of allStrings(bodies)) for (const expr of interpolations(text)) references(expr).forEach(check);
  // depends_on lists bare addresses; provider fields name a declared provider (alias).
  for (const blocks of [json.resource, json.data ?? {}]) {
    for (const byName of Object.values(blocks)) {
      for (const props of Object.values(byName) as Record<string, unknown>[]) {
        for (const dep of (props.depends_on as string[] | undefined) ?? []) check(dep);
        if (typeof props.provider === 'string' && !d.providers.has(props.provider)) missing.push(`provider ${props.provider}`);
      }
    }
  }
  return { refs, missing };
}

describe('Terraform references in the synthesized JSON', () => {
  const cases = [
    ...LEVELS.map((level) => ({ level, regions: undefined })),
    { level: 'expert' as const, regions: 'us-east-1,eu-west-1,ap-southeast-1' },
  ];
  const k8sCases = cases.filter((c) => c.level === 'advanced' || c.level === 'expert');
  const results = new Map<string, ReturnType<typeof dangling>>();
  const k8sResults = new Map<string, ReturnType<typeof dangling>>();
  beforeAll(() => {
    for (const c of cases) {
      const s = synthLevel(c.level, { regions: c.regions });
      results.set(`${c.level}:${c.regions ?? 'default'}`, dangling(s.json));
      if (s.k8s) k8sResults.set(`${c.level}:${c.regions ?? 'default'}`, dangling(s.k8s));
    }
  });

  it.each(cases)('$level ($regions) references only declared resources, data sources and providers', (c) => {
    const result = results.get(`${c.level}:${c.regions ?? 'default'}`)!;
    expect(result.refs).toBeGreaterThan(20);
    expect(result.missing).toEqual([]);
  });

  it.each(k8sCases)('the $level-k8s stack ($regions) references only what it declares', (c) => {
    const result = k8sResults.get(`${c.level}:${c.regions ?? 'default'}`);
    expect(result, 'no cluster-objects stack').toBeDefined();
    expect(result!.refs).toBeGreaterThan(15);
    expect(result!.missing).toEqual([]);
  });

  it('the checker itself finds a dangling reference', () => {
    const json: TfJson = {
      provider: { aws: [{ region: 'us-east-1' }] },
      resource: {
        aws_vpc: { main: { cidr_block: '10.0.0.0/16' } },
        aws_subnet: { a: { vpc_id: '${aws_vpc.other.id}', provider: 'aws.nope' } },
      },
      output: { x: { value: '${element(data.aws_availability_zones.azs.names, 0)} $${literal.not_a_ref}' } },
    };
    expect(dangling(json).missing.sort()).toEqual(['aws_vpc.other', 'data.aws_availability_zones.azs', 'provider aws.nope']);
    const k8s: TfJson = { provider: { kubernetes: [{ host: '${data.terraform_remote_state.other.outputs.x}' }] }, resource: {} };
    expect(dangling(k8s).missing).toEqual(['data.terraform_remote_state.other']);
  });
});
