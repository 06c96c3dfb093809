// The AWS plan (constructs/model/aws-plan.ts), which both AWS engines render: where shards and
// replicas go, which CIDRs the regions get, who may reach what, what each VM is told, which
// outputs a level has; and that a bad spec is refused the same way by the plan and both engines.
import { App } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { LabStack } from '../../constructs/aws/lab-stack.js';
import { awsPlan, labIngress, placeShards, type AwsPlan, type VmPlan } from '../../constructs/model/aws-plan.js';
import { KAFKA_IAM_PORT, KAFKA_TLS_PORT, POSTGRES_PORT, REDIS_PORT, AMQPS_PORT } from '../../constructs/model/aws.js';
import { resolveDeployment, type DeploymentOptions, type LabDeployment } from '../../constructs/model/deployment.js';
import { ValidationError } from '../../constructs/model/errors.js';
import { clusterOutputNames } from '../../constructs/model/names.js';
import { LEVELS, type Component, type LabSpec, type Level } from '../../constructs/model/types.js';
import { LabforgeLab } from '../../constructs/pulumi/lab.js';
import { registrationsOf } from '../../constructs/pulumi/inventory.js';
import { getLab } from '../../labs/index.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const THREE = 'us-east-1,eu-west-1,ap-southeast-1';
const DATA_PORTS = [POSTGRES_PORT, REDIS_PORT, AMQPS_PORT, KAFKA_TLS_PORT, KAFKA_IAM_PORT];

function deploy(lab: LabSpec, options: DeploymentOptions = {}): LabDeployment {
  return resolveDeployment(lab, { owner: 'tester', ttl: '4h', now: NOW, ...options });
}

const plan = (level: Level, options: DeploymentOptions = {}) => awsPlan(deploy(getLab(level), options));

/** A lab whose component `id` is changed by `change`. */
function changed(level: Level, id: string, change: (c: Component) => object): LabSpec {
  const lab = getLab(level);
  return { ...lab, components: lab.components.map((c) => (c.id === id ? { ...c, ...change(c) } : c)) };
}

/** CIDR a.b.c.d/n as [first, last] address. */
function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const first = ip!.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return [first, first + 2 ** (32 - Number(bits)) - 1];
}

const overlap = (a: string, b: string) => {
  const [[a0, a1], [b0, b1]] = [range(a), range(b)];
  return a0 <= b1 && b0 <= a1;
};

describe('shard placement', () => {
  it('puts primaries round-robin over the regions', () => {
    expect(placeShards(5, 1, 3).map((p) => p.primary)).toEqual([0, 1, 2, 0, 1]);
  });

  it("puts every replica in a region other than its primary's, and no two replicas of a shard together", () => {
    for (const p of placeShards(4, 2, 3)) {
      expect(p.replicas).not.toContain(p.primary);
      expect(new Set(p.replicas).size).toBe(p.replicas.length);
    }
  });

  it('places the expert databases that way in the plan: primaries in both regions, each replica elsewhere, keyed there', () => {
    const p = plan('expert', { regions: THREE });
    expect(p.databases.map((db) => db.region)).toEqual([0, 1]);
    for (const db of p.databases) {
      const [replica] = db.replicas;
      expect(replica!.region).not.toBe(db.region);
      // Cross-region replicas are encrypted with a key of their own region.
      expect(replica!.kmsKey.ref).toBe(`${p.regions[replica!.region]!.code}-kms`);
    }
  });

  it("gives a primary with replicas backups and its region's key, which a replica needs of its source", () => {
    for (const db of plan('expert').databases) {
      expect(db.settings.backupRetentionDays).toBe(1);
      expect(db.kmsKey?.ref).toBe(`${plan('expert').regions[db.region]!.code}-kms`);
    }
    expect(plan('intermediate').databases[0]!.settings.backupRetentionDays).toBe(0);
  });
});

describe('regions and CIDRs', () => {
  const four = plan('expert', { regions: `${THREE},us-west-2` });

  it("gives every region a VPC range that overlaps no other region's", () => {
    const cidrs = four.regions.map((r) => r.network.cidr);
    expect(cidrs).toHaveLength(4);
    for (const [i, a] of cidrs.entries()) for (const b of cidrs.slice(i + 1)) expect(overlap(a, b), `${a} ${b}`).toBe(false);
  });

  it('lays the subnets inside their VPC, none overlapping another', () => {
    for (const { network } of four.regions) {
      const subnets = [...network.publicSubnetCidrs, ...network.privateSubnetCidrs];
      expect(subnets).toHaveLength(2 * network.azs);
      for (const s of subnets) expect(range(s)[0] >= range(network.cidr)[0] && range(s)[1] <= range(network.cidr)[1], s).toBe(true);
      for (const [i, a] of subnets.entries()) for (const b of subnets.slice(i + 1)) expect(overlap(a, b), `${a} ${b}`).toBe(false);
    }
  });

  it('peers every pair of regions once', () => {
    expect(four.peerings.map((x) => [x.requester, x.accepter])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
  });
});

describe('ingress', () => {
  const cases = LEVELS.flatMap((level) => [
    { level, options: {} },
    { level, options: { allowCidr: '203.0.113.7/32' } },
  ]);

  it.each(cases)('$level $options: no rule admits the world', ({ level, options }) => {
    const rules = labIngress(plan(level, options)).flatMap((g) => g.rules);
    expect(rules.filter((r) => 'cidr' in r.from && r.from.cidr.endsWith('/0'))).toEqual([]);
  });

  it.each(cases)("$level $options: database, cache, broker and Kafka ports admit only the lab's own clients", ({ level, options }) => {
    const p = plan(level, options);
    const vpcs = p.regions.map((r) => r.network.cidr);
    const data = labIngress(p)
      .flatMap((g) => g.rules)
      .filter((r) => DATA_PORTS.includes(r.port) && !p.vmSecurityGroups.some((g) => g.ingress.includes(r)));
    for (const rule of data) {
      if ('cidr' in rule.from) expect(vpcs, `${rule.port} from ${rule.from.cidr}`).toContain(rule.from.cidr);
      else expect(['id', 'security-group']).toContain(rule.from.securityGroupId.attribute);
    }
  });

  it('opens a VM to nothing without --allow-cidr, and to that CIDR only with it', () => {
    expect(plan('beginner').vmSecurityGroups[0]!.ingress).toEqual([]);
    const rules = plan('beginner', { allowCidr: '203.0.113.7/32' }).vmSecurityGroups[0]!.ingress;
    expect(rules.map((r) => [r.port, 'cidr' in r.from && r.from.cidr])).toEqual([
      [22, '203.0.113.7/32'],
      [POSTGRES_PORT, '203.0.113.7/32'],
    ]);
  });

  it("with several regions, admits the regions' VPC ranges (security groups cannot be referenced across regions)", () => {
    const p = plan('expert', { regions: THREE });
    const vpcs = p.regions.map((r) => ({ cidr: r.network.cidr }));
    for (const db of p.databases) expect(db.allowFrom).toEqual(vpcs);
  });
});

describe('VM environment', () => {
  const app = (p: AwsPlan): VmPlan => p.vms.find((vm) => vm.id === 'app')!;
  const env = (vm: VmPlan) => {
    const value = vm.userData.values.env;
    return value && 'env' in value ? Object.fromEntries(value.env.map((e) => [e.name, e.value])) : {};
  };

  it('tells the intermediate app VM where its data services are, by reference to what the engine creates', () => {
    expect(env(app(plan('intermediate')))).toEqual({
      AWS_REGION: 'us-east-1',
      LABFORGE_API_HOST: '0.0.0.0',
      LABFORGE_API_PORT: '8080',
      PGHOST: { ref: 'use1-db', attribute: 'address' },
      PGPORT: '5432',
      PGDATABASE: 'lab',
      PGUSER: 'learner',
      PGSSLMODE: 'require',
      REDIS_HOST: { ref: 'cache', attribute: 'endpoint' },
      REDIS_PORT: '6379',
      REDIS_TLS: 'true',
      UPLOADS_BUCKET: { ref: 'uploads', attribute: 'name' },
    });
  });

  it('lets the app VM use the buckets its services use, and read no secret', () => {
    const vm = app(plan('intermediate'));
    expect(vm.buckets).toEqual([{ ref: 'uploads', attribute: 'arn' }]);
    expect(vm.readParameters).toEqual([]);
  });

  it('lets the beginner VM read only its own database password, by parameter name', () => {
    const [vm] = plan('beginner').vms;
    expect(vm!.readParameters).toEqual([{ ref: 'db-password', attribute: 'parameter-arn' }]);
    expect(vm!.userData.values.passwordParameter).toEqual({ quoted: { ref: 'db-password', attribute: 'parameter-name' } });
  });
});

describe('outputs per level', () => {
  it.each(LEVELS)('%s: every output of the spec, in its order, with a value', (level) => {
    expect(plan(level).outputs.map((o) => o.name)).toEqual(getLab(level).outputs.map((o) => o.name));
  });

  it.each(LEVELS)('%s: cluster connection outputs for each region exactly when the lab has a cluster', (level) => {
    const p = plan(level, { regions: THREE });
    const expected = p.clusters.length > 0 ? p.regions.flatMap((r) => Object.values(clusterOutputNames(r.region))) : [];
    expect(p.clusterOutputs.map((o) => o.name)).toEqual(expected);
  });

  it("expert: shard endpoints name each shard's primary and replica region", () => {
    const shards = plan('expert').outputs.find((o) => o.name === 'shard_endpoints')!.value;
    expect(shards).toEqual({
      list: [0, 1].map((shard) => ({
        record: {
          shard,
          region: ['us-east-1', 'eu-west-1'][shard],
          primary: { ref: `${['use1', 'euw1'][shard]}-db-shard${shard}`, attribute: 'address' },
          replicas: {
            list: [
              {
                record: {
                  region: ['eu-west-1', 'us-east-1'][shard],
                  endpoint: { ref: `${['euw1', 'use1'][shard]}-db-shard${shard}-replica0`, attribute: 'address' },
                },
              },
            ],
          },
        },
      })),
    });
  });

  it("beginner: the PostgreSQL URL is built from the VM's public IP", () => {
    const url = plan('beginner').outputs.find((o) => o.name === 'postgres_url')!.value;
    expect(url).toEqual({ join: ['postgres://learner@', { ref: 'server', attribute: 'public-ip' }, ':5432/lab'] });
  });

  it('marks the generated passwords sensitive and nothing else', () => {
    const sensitive = plan('advanced')
      .outputs.filter((o) => o.sensitive)
      .map((o) => o.name);
    expect(sensitive).toEqual(['postgres_password', 'redis_auth_token', 'mq_password']);
  });
});

describe('bad input: one ValidationError, the same on the plan and both engines, before anything is created', () => {
  const lab = getLab('beginner');
  const cases: [string, LabDeployment, string][] = [
    [
      'replicas that need more regions',
      deploy(changed('expert', 'db', () => ({ replicas: 2 }))),
      'expert/db: replicas (2) must each be in another region: needs 3 regions, got 2',
    ],
    [
      'Kafka brokers not spread evenly',
      deploy(changed('expert', 'events', () => ({ brokers: 4 }))),
      'expert/us-east-1/events: brokers must be a multiple of the 3 subnets, got 4',
    ],
    [
      'an output no component fills',
      deploy({ ...lab, outputs: [...lab.outputs, { name: 'nope', description: 'x', sensitive: false }] }),
      "beginner: output 'nope' of the beginner lab has no value in the aws engines (cdktf, pulumi)",
    ],
    [
      'a world-open allowed CIDR',
      { ...deploy(lab), allowCidr: '0.0.0.0/0' },
      'beginner/us-east-1/server-sg: port 22 may not be opened to 0.0.0.0/0',
    ],
    ['no region', { ...deploy(lab), regions: [] }, 'beginner: the deployment lists no region'],
  ];

  /** What `build` throws. */
  function thrown(build: () => unknown): unknown {
    try {
      build();
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it.each(cases)('%s: the plan refuses it', (_, d, message) => {
    const error = thrown(() => awsPlan(d));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toEqual(new ValidationError(message));
  });

  it.each(cases)('%s: the cdktf engine refuses it the same way and adds no stack', (_, d, message) => {
    const app = new App({ outdir: '/tmp/labforge-unused', skipValidation: true });
    const error = thrown(() => new LabStack(app, d.name, { deployment: d }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toEqual(new ValidationError(message));
    expect(app.node.children).toEqual([]);
  });

  it.each(cases)('%s: the Pulumi engine refuses it the same way and registers nothing', async (_, d, message) => {
    let error: unknown;
    const seen = await registrationsOf(d.name, () => {
      try {
        new LabforgeLab(d.name, { deployment: d });
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toEqual(new ValidationError(message));
    expect(seen).toEqual([]);
  });
});
