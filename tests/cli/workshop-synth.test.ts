// `labforge workshop synth` and `labforge cost --max-cost` through the built CLI: one stack (or
// Pulumi project) per participant, sharing no name, tag, secret or state with another; bad input
// and an envelope above the budget refused before anything is written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labforge, type CliResult } from './run.js';

const parent = mkdtempSync(join(tmpdir(), 'lf-workshop-synth-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

type Resource = Record<string, unknown>;
interface TerraformJson {
  provider?: { aws?: { default_tags?: { tags: Record<string, string> }[]; region: string }[] };
  resource?: Record<string, Record<string, Resource>>;
  terraform?: { backend?: { local?: { path: string } } };
}
interface Index {
  workshop: string;
  level: string;
  target: string;
  expiresAt: string;
  participants: {
    id: string;
    lab: string;
    dir: string;
    stacks?: { stack: string; dir: string; resources: number }[];
    manifests?: string[];
    outputs?: number;
  }[];
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
const stackJson = (out: string, stack: string) => readJson<TerraformJson>(join(out, 'stacks', stack, 'cdk.tf.json'));
const resources = (json: TerraformJson) =>
  Object.entries(json.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([id, r]) => ({ type, id, r })));

/** Attributes that name a resource in its AWS account and region (not inside a parent resource). */
const PHYSICAL = ['name', 'identifier', 'bucket_prefix', 'replication_group_id', 'name_prefix', 'cluster_name', 'node_group_name'] as const;
/** Types whose `name` is scoped to a parent: an inline role policy is named within its role. */
const SCOPED_NAME = new Set(['aws_iam_role_policy']);

/** Every literal physical name in a stack, as `type.attribute=value`. */
function physicalNames(json: TerraformJson): string[] {
  return resources(json).flatMap(({ type, r }) =>
    PHYSICAL.filter((key) => typeof r[key] === 'string' && !(key === 'name' && SCOPED_NAME.has(type)) && !r[key].includes('${')).map(
      (key) => `${type}.${key}=${String(r[key])}`,
    ),
  );
}

function ok(args: string[]): CliResult {
  const r = labforge(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('workshop synth --target aws', () => {
  const beginner = join(parent, 'beginner');
  const intermediate = join(parent, 'intermediate');
  const expert = join(parent, 'expert');
  let run: CliResult;
  beforeAll(() => {
    run = ok([
      'workshop',
      'synth',
      'beginner',
      '--participants',
      '3',
      '--name',
      'w1',
      '--out',
      beginner,
      '--owner',
      'trainer',
      '--ttl',
      '6h',
      '--max-cost',
      '100',
    ]);
    ok(['workshop', 'synth', 'intermediate', '--participants', '3', '--name', 'w2', '--out', intermediate]);
    ok(['workshop', 'synth', 'expert', '--participants', '2', '--name', 'w3', '--out', expert]);
  });
  const labs = ['w1-p01', 'w1-p02', 'w1-p03'];

  it('writes one stack per participant, w1-p01..w1-p03, and prints one line each plus a summary', () => {
    for (const lab of labs) expect(existsSync(join(beginner, 'stacks', lab, 'cdk.tf.json')), lab).toBe(true);
    expect(existsSync(join(beginner, 'stacks', 'w1-p04'))).toBe(false);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    labs.forEach((lab, i) => expect(lines[i]).toMatch(new RegExp(`^${lab}: \\d+ resources -> .*stacks/${lab}$`)));
    expect(lines[3]).toMatch(/^workshop w1: 3 participant\(s\) \(w1-p01\.\.w1-p03\), 3 stacks, \d+ resources -> /);
    // Within the budget: the envelope is said, on stderr.
    expect(run.stderr).toMatch(/cost envelope \$[\d.]+ \(3 x \$[\d.]+\/hour for 6h\), within --max-cost \$100\.00/);
  });

  it("tags every participant's resources with its own lab name, the owner and one expiry", () => {
    const expiries = new Set<string>();
    for (const lab of labs) {
      const aws = stackJson(beginner, lab).provider?.aws ?? [];
      expect(aws.length).toBeGreaterThan(0);
      for (const provider of aws) {
        const tags = provider.default_tags?.[0]?.tags ?? {};
        expect(tags['labforge:lab']).toBe(lab);
        expect(tags['labforge:owner']).toBe('trainer');
        expect(tags['labforge:level']).toBe('beginner');
        expiries.add(tags['labforge:expires-at']!);
      }
    }
    expect(expiries.size).toBe(1);
    const [expiresAt] = [...expiries];
    // --ttl 6h from this run (the test started minutes ago at most).
    expect(Math.abs(Date.parse(expiresAt!) - (Date.now() + 6 * 3_600_000))).toBeLessThan(5 * 60_000);
  });

  it('gives each participant its own generated password, in its own SSM path, and its own state file', () => {
    for (const lab of labs) {
      const json = stackJson(beginner, lab);
      const passwords = Object.keys(json.resource?.random_password ?? {});
      expect(passwords.length, lab).toBeGreaterThan(0);
      const parameters = Object.values(json.resource?.aws_ssm_parameter ?? {});
      expect(parameters.length, lab).toBeGreaterThan(0);
      for (const p of parameters) {
        expect(p.name).toMatch(new RegExp(`^/labforge/${lab}/`));
        // The value comes from a random_password of this very stack (a separate Terraform state).
        const source = /^\$\{random_password\.([^.]+)\.result\}$/.exec(String(p.value))?.[1];
        expect(passwords).toContain(source);
      }
      expect(json.terraform?.backend?.local?.path).toBe('terraform.tfstate');
    }
  });

  it.each([
    ['beginner', 'w1', 3],
    ['intermediate', 'w2', 3],
    ['expert', 'w3', 2],
  ] as const)('%s: no physical name is shared between two participants, and each carries its lab name', (level, workshop, count) => {
    const out = join(parent, level);
    const index = readJson<Index>(join(out, 'participants.json'));
    const owner = new Map<string, string>();
    const kinds = new Set<string>();
    for (const p of index.participants) {
      for (const s of p.stacks!) {
        // Within one stack a name may repeat (latency records: one per region, in one zone).
        for (const name of new Set(physicalNames(stackJson(out, s.stack)))) {
          expect(owner.get(name), `${name} is in ${owner.get(name)} and ${s.stack}`).toBeUndefined();
          owner.set(name, s.stack);
          expect(name, s.stack).toContain(p.lab);
          kinds.add(name.replace(/=.*/, ''));
        }
      }
    }
    expect(index.participants.map((p) => p.lab)).toEqual(Array.from({ length: count }, (_, i) => `${workshop}-p0${i + 1}`));
    // The check saw the names that matter for the level (not vacuously true).
    const expected = {
      beginner: ['aws_iam_role.name', 'aws_security_group.name', 'aws_ssm_parameter.name'],
      intermediate: [
        'aws_db_instance.identifier',
        'aws_s3_bucket.bucket_prefix',
        'aws_elasticache_replication_group.replication_group_id',
        'aws_ssm_parameter.name',
      ],
      expert: [
        'aws_eks_cluster.name',
        'aws_msk_cluster.cluster_name',
        'aws_db_instance.identifier',
        'aws_route53_zone.name',
        'aws_ecr_repository.name',
      ],
    }[level];
    for (const kind of expected) expect(kinds, kind).toContain(kind);
  });

  it('participants.json lists every participant with its stack directory', () => {
    const index = readJson<Index>(join(beginner, 'participants.json'));
    expect(index).toMatchObject({ workshop: 'w1', level: 'beginner', target: 'aws' });
    expect(index.participants).toEqual(
      labs.map((lab, i) => ({
        id: `p0${i + 1}`,
        lab,
        dir: `stacks/${lab}`,
        stacks: [{ stack: lab, dir: `stacks/${lab}`, resources: expect.any(Number) as number }],
        manifests: [],
      })),
    );
    for (const p of index.participants)
      expect(p.stacks![0]!.resources).toBe(
        Object.values(stackJson(beginner, p.lab).resource!).reduce((n, byName) => n + Object.keys(byName).length, 0),
      );
  });

  it('levels on EKS: each participant has its own -k8s stack and cluster manifests, in its own namespace', () => {
    const index = readJson<Index>(join(expert, 'participants.json'));
    for (const p of index.participants) {
      expect(p.stacks!.map((s) => s.stack)).toEqual([p.lab, `${p.lab}-k8s`]);
      // The cluster-objects stack reads this participant's cluster state, no one else's.
      expect(JSON.stringify(stackJson(expert, `${p.lab}-k8s`))).toContain(`../${p.lab}/terraform.tfstate`);
      expect(p.manifests!.length).toBe(2); // one per region
      for (const file of p.manifests!) {
        expect(file.startsWith(`manifests/${p.lab}/`)).toBe(true);
        const namespaces = new Set(
          readFileSync(join(expert, file), 'utf8')
            .split(/^---$/m)
            .map((doc) => (parse(doc) as { metadata?: { namespace?: string } } | null)?.metadata?.namespace)
            .filter((n) => n !== undefined),
        );
        expect([...namespaces]).toEqual([`lf-${p.lab}`]);
      }
    }
  });

  it('prints the summary line only for more than 10 participants, and --json prints the index', () => {
    const out = join(parent, 'many');
    const r = ok(['workshop', 'synth', 'beginner', '--participants', '12', '--name', 'big', '--out', out]);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^workshop big: 12 participant\(s\) \(big-p01\.\.big-p12\), 12 stacks, \d+ resources -> /),
    ]);
    const json = JSON.parse(
      ok(['workshop', 'synth', 'beginner', '--participants', '2', '--name', 'big', '--out', out, '--json']).stdout,
    ) as Index & { outdir: string };
    expect(json.outdir).toBe(out);
    expect(json.participants.map((p) => p.lab)).toEqual(['big-p01', 'big-p02']);
    expect(readJson<Index>(join(out, 'participants.json')).participants).toHaveLength(2);
  });

  it('keeps, and names, participant stacks an earlier bigger run left (they may hold state)', () => {
    const out = join(parent, 'rerun');
    ok(['workshop', 'synth', 'beginner', '--participants', '3', '--name', 're', '--out', out]);
    const r = ok(['workshop', 'synth', 'beginner', '--participants', '2', '--name', 're', '--out', out]);
    expect(r.stderr).toMatch(/not this run's, left in place .*stacks\/re-p03$/m);
    expect(existsSync(join(out, 'stacks', 're-p03', 'cdk.tf.json'))).toBe(true);
    expect(readJson<Index>(join(out, 'participants.json')).participants.map((p) => p.lab)).toEqual(['re-p01', 're-p02']);
  });
});

describe('workshop synth --target pulumi', () => {
  const out = join(parent, 'pulumi');
  beforeAll(() => void ok(['workshop', 'synth', 'beginner', '--participants', '3', '--name', 'w1', '--target', 'pulumi', '--out', out]));

  it('writes one project per participant whose deployment and project names differ', () => {
    const labs = ['w1-p01', 'w1-p02', 'w1-p03'];
    const deployments = labs.map((lab) => readJson<{ name: string; expiresAt: string }>(join(out, lab, 'deployment.json')));
    expect(deployments.map((d) => d.name)).toEqual(labs);
    expect(new Set(deployments.map((d) => d.expiresAt)).size).toBe(1);
    // Pulumi keys stacks by project: distinct projects keep participants apart even in one backend.
    const projects = labs.map((lab) => (parse(readFileSync(join(out, lab, 'Pulumi.yaml'), 'utf8')) as { name: string }).name);
    expect(projects).toEqual(labs.map((lab) => `labforge-${lab}`));
    const index = readJson<Index>(join(out, 'participants.json'));
    expect(index.target).toBe('pulumi');
    expect(index.participants.map((p) => [p.id, p.lab, p.dir])).toEqual(labs.map((lab, i) => [`p0${i + 1}`, lab, lab]));
  });
});

describe('bad input: exit 2, one line, nothing written', () => {
  it.each([
    [['--participants', '0'], /^labforge: bad --participants '0' \(expected a whole number from 1 to 200\)$/],
    [['--participants', '-1'], /^labforge: bad --participants '-1' \(expected a whole number from 1 to 200\)$/],
    [['--participants', '201'], /^labforge: bad --participants '201' \(expected a whole number from 1 to 200\)$/],
    [['--participants', 'abc'], /^labforge: bad --participants 'abc' \(expected a whole number from 1 to 200\)$/],
    [[], /^labforge: Missing required argument: participants$/],
    [['--participants', '3', '--target', 'k8s'], /^labforge: unknown target 'k8s' \(valid: aws, pulumi\)$/],
    [
      ['--participants', '3', '--name', 'a-very-long-workshop'],
      /^labforge: bad workshop name 'a-very-long-workshop' \(at most 19 characters/,
    ],
    [['--participants', '3', '--name', 'Bad_Name'], /^labforge: bad lab name 'Bad_Name'/],
    [['--participants', '3', '--ttl', '30d'], /^labforge: --ttl '30d' is longer than the 7d maximum$/],
    [['--participants', '3', '--max-cost', 'lots'], /^labforge: bad --max-cost 'lots' \(expected an amount in USD above 0/],
  ])('workshop synth beginner %j', (args, message) => {
    const out = join(mkdtempSync(join(parent, 'bad-')), 'out');
    const r = labforge(['workshop', 'synth', 'beginner', ...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('an unknown level', () => {
    const out = join(parent, 'bad-level');
    const r = labforge(['workshop', 'synth', 'guru', '--participants', '3', '--out', out]);
    expect([r.code, r.stderr.trimEnd()]).toEqual([2, expect.stringMatching(/^labforge: unknown level 'guru' \(valid: beginner, /)]);
    expect(existsSync(out)).toBe(false);
  });

  it('--max-cost below the envelope: 10 intermediate participants for $0.01', () => {
    const out = join(parent, 'over-budget');
    const r = labforge(['workshop', 'synth', 'intermediate', '--participants', '10', '--max-cost', '0.01', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^labforge: the cost envelope \$[\d.]+ \(\$[\d.]+\/hour x 10 participant\(s\) x 4 hour\(s\)\) is above --max-cost \$0\.010$/,
      ),
    ]);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});

describe('cost --max-cost', () => {
  const args = ['cost', 'intermediate', '--participants', '20', '--hours', '3'];

  it('refuses an envelope above the budget: exit 2, one line naming the envelope and the budget', () => {
    const total = (JSON.parse(ok([...args, '--json']).stdout) as { total: number }).total;
    expect(total).toBeGreaterThan(1);
    const r = labforge([...args, '--max-cost', '1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const line = r.stderr.trimEnd();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(
      /^labforge: the cost envelope \$[\d.]+ \(\$[\d.]+\/hour x 20 participant\(s\) x 3 hour\(s\)\) is above --max-cost \$1\.000$/,
    );
    expect(Number(/envelope \$([\d.]+)/.exec(line)![1])).toBeCloseTo(total, 1);
  });

  it('accepts an envelope within the budget and says so', () => {
    const r = ok([...args, '--max-cost', '100']);
    expect(r.stdout).toMatch(/^20 participant\(s\) x 3 hour\(s\): \$[\d.]+, within budget \$100\.00$/m);
    expect(r.stdout).toMatch(/^One lab: /m);
    const json = JSON.parse(ok([...args, '--max-cost', '$100', '--json']).stdout) as { total: number; maxCost: number };
    expect(json.maxCost).toBe(100);
    expect(json.total).toBeLessThanOrEqual(100);
  });

  it.each(['0', '-5', '1e3', '12 USD', '$', '', '0x10'])('refuses the amount %j', (amount) => {
    const r = labforge([...args, '--max-cost', amount]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toMatch(/^labforge: bad --max-cost '.*' \(expected an amount in USD above 0, such as 50 or \$12\.50\)$/);
  });
});

describe('fast path', () => {
  it('`workshop synth --help` loads no engine', () => {
    const r = labforge(['workshop', 'synth', '--help'], { nodeArgs: ['--require', join(import.meta.dirname, 'report-loaded.cjs')] });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--participants');
    expect(r.stderr).toMatch(/^LOADED \[\]$/m);
  });

  it.each([
    { target: 'aws', cdktf: true },
    { target: 'pulumi', cdktf: false },
  ])('--target $target loads no Pulumi module (cdktf: $cdktf)', ({ target, cdktf }) => {
    const r = labforge(
      ['workshop', 'synth', 'beginner', '--participants', '2', '--target', target, '--out', join(parent, `loaded-${target}`)],
      {
        nodeArgs: ['--require', join(import.meta.dirname, 'report-loaded.cjs')],
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const modules = JSON.parse(/LOADED (\[.*\])/.exec(r.stderr)![1]!) as string[];
    expect(modules.filter((m) => m.startsWith('@pulumi/'))).toEqual([]);
    expect(modules.some((m) => m.startsWith('cdktf/'))).toBe(cdktf);
  });
});
