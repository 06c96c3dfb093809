// Security and destroyability invariants that must hold for every lab the AWS engine renders.
import { beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_TAG_KEYS, labTags } from '../../constructs/model/tags.js';
import { LEVELS, type Level } from '../../constructs/model/types.js';
import { ALLOW_CIDR, allStrings, block, ingressRules, resources, synthLevel, type Synthesized } from '../synth/helpers.js';

const SENSITIVE_PORTS = [22, 5432, 6379, 5671, 5672, 9092, 9094, 9098];
const WORLD = ['0.0.0.0/0', '::/0'];

interface Case {
  readonly label: string;
  readonly level: Level;
  readonly regions?: string;
  readonly allowCidr?: string;
}

const CASES: Case[] = [
  ...LEVELS.map((level) => ({ label: level, level })),
  ...LEVELS.map((level) => ({ label: `${level} with --allow-cidr`, level, allowCidr: ALLOW_CIDR })),
  { label: 'expert in 3 regions', level: 'expert', regions: 'us-east-1,eu-west-1,ap-southeast-1', allowCidr: ALLOW_CIDR },
];

describe.each(CASES)('policy: $label', (c) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthLevel(c.level, { regions: c.regions, allowCidr: c.allowCidr });
  });

  it('opens no sensitive port to the world', () => {
    const open = ingressRules(s.json).filter(
      (r) => r.cidrs.some((cidr) => WORLD.includes(cidr)) && SENSITIVE_PORTS.some((p) => p >= r.fromPort && p <= r.toPort),
    );
    expect(open).toEqual([]);
  });

  it("uses only the allowed CIDR or the lab's own VPC ranges in ingress rules", () => {
    const vpcCidrs = resources(s.json, 'aws_vpc').map((v) => v.props.cidr_block as string);
    const allowed = new Set([...vpcCidrs, ...(c.allowCidr ? [c.allowCidr] : [])]);
    const cidrs = ingressRules(s.json).flatMap((r) => r.cidrs);
    expect(cidrs.filter((cidr) => !allowed.has(cidr))).toEqual([]);
    if (c.allowCidr && c.level === 'beginner') expect(cidrs).toContain(c.allowCidr);
    if (!c.allowCidr) expect(cidrs.filter((cidr) => !vpcCidrs.includes(cidr))).toEqual([]);
  });

  it('requires IMDSv2 on every instance and launch template', () => {
    const targets = [...resources(s.json, 'aws_instance'), ...resources(s.json, 'aws_launch_template')];
    for (const t of targets) expect(block(t.props.metadata_options)?.http_tokens, t.address).toBe('required');
  });

  it('encrypts every disk, database, cache, bucket, stream, secret store and registry', () => {
    for (const vm of resources(s.json, 'aws_instance')) expect(block(vm.props.root_block_device).encrypted, vm.address).toBe(true);
    for (const lt of resources(s.json, 'aws_launch_template')) {
      for (const bd of lt.props.block_device_mappings ?? []) expect(String(block(bd.ebs).encrypted), lt.address).toBe('true');
    }
    for (const db of resources(s.json, 'aws_db_instance')) expect(db.props.storage_encrypted, db.address).toBe(true);
    for (const r of resources(s.json, 'aws_elasticache_replication_group')) {
      expect(String(r.props.at_rest_encryption_enabled), r.address).toBe('true');
      expect(r.props.transit_encryption_enabled, r.address).toBe(true);
    }
    const sse = resources(s.json, 'aws_s3_bucket_server_side_encryption_configuration');
    for (const b of resources(s.json, 'aws_s3_bucket')) {
      expect(
        sse.some((e) => String(e.props.bucket).includes(`${b.address}.`)),
        b.address,
      ).toBe(true);
    }
    for (const m of resources(s.json, 'aws_msk_cluster')) {
      const enc = block(m.props.encryption_info);
      expect(enc.encryption_at_rest_kms_key_arn, m.address).toBeTruthy();
      expect(block(enc.encryption_in_transit).client_broker, m.address).toBe('TLS');
    }
    for (const k of resources(s.json, 'aws_eks_cluster'))
      expect(block(k.props.encryption_config).resources, k.address).toEqual(['secrets']);
    for (const r of resources(s.json, 'aws_ecr_repository'))
      expect(block(r.props.encryption_configuration)?.encryption_type, r.address).toBeTruthy();
  });

  it('can be destroyed without manual steps', () => {
    for (const [type, byName] of Object.entries(s.json.resource)) {
      for (const [name, props] of Object.entries(byName)) expect(props.deletion_protection, `${type}.${name}`).not.toBe(true);
    }
    for (const db of resources(s.json, 'aws_db_instance')) expect(db.props.skip_final_snapshot, db.address).toBe(true);
    for (const b of resources(s.json, 'aws_s3_bucket')) expect(b.props.force_destroy, b.address).toBe(true);
    for (const z of resources(s.json, 'aws_route53_zone')) expect(z.props.force_destroy, z.address).toBe(true);
    for (const r of resources(s.json, 'aws_ecr_repository')) expect(r.props.force_delete, r.address).toBe(true);
    for (const k of resources(s.json, 'aws_kms_key')) expect(k.props.deletion_window_in_days, k.address).toBe(7);
  });

  it("tags everything through default_tags on every AWS provider, with the deployment's values", () => {
    const d = s.deployment;
    const expected = labTags({ lab: d.name, level: d.lab.level, owner: d.owner, expiresAt: d.expiresAt });
    const providers = s.json.provider.aws ?? [];
    expect(providers).toHaveLength(d.regions.length);
    for (const p of providers) {
      const tags = block(p.default_tags).tags as Record<string, string>;
      expect(Object.keys(tags).sort()).toEqual([...REQUIRED_TAG_KEYS].sort());
      expect(tags).toEqual(expected);
    }
  });

  it('never puts a generated secret into user data, and marks secret outputs sensitive', () => {
    for (const vm of resources(s.json, 'aws_instance')) expect(String(vm.props.user_data)).not.toMatch(/random_password|random_string/);
    for (const [name, out] of Object.entries(s.json.output ?? {})) {
      if (allStrings(out.value).some((v) => v.includes('random_password.'))) expect(out.sensitive, name).toBe(true);
    }
  });

  it('uses no "*" resource in any inline IAM policy', () => {
    for (const p of resources(s.json, 'aws_iam_role_policy')) {
      const doc = JSON.parse(p.props.policy) as { Statement: { Resource: string | string[] }[] };
      expect(
        doc.Statement.flatMap((st) => ([] as string[]).concat(st.Resource)),
        p.address,
      ).not.toContain('*');
    }
  });
});
