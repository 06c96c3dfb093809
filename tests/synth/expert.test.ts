import { beforeAll, describe, expect, it } from 'vitest';
import { clusterOutputNames, regionCode } from '../../constructs/model/names.js';
import { block, one, providerOf, refersTo, resources, synthLevel, type Synthesized, type TfJson } from './helpers.js';

const THREE = 'us-east-1,eu-west-1,ap-southeast-1';

/** CIDR a.b.c.d/n as [first, last] numbers. */
function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const n = ip!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return [n, n + size - 1];
}

/** Provider alias of the region that owns the resource at `address`. */
function providerAt(json: TfJson, address: string): string {
  const [type, name] = address.split('.');
  return json.resource[type!]![name!]!.provider as string;
}

describe('expert on aws (cdktf)', () => {
  let s: Synthesized;
  let three: Synthesized;
  beforeAll(() => {
    s = synthLevel('expert');
    three = synthLevel('expert', { regions: THREE });
  });

  it('declares one aliased provider per region, and every AWS resource uses one of them', () => {
    for (const { json, deployment } of [s, three]) {
      const aws = json.provider.aws!;
      expect(aws.map((p) => [p.alias, p.region])).toEqual(deployment.regions.map((r) => [regionCode(r), r]));
      const aliases = new Set(aws.map((p) => `aws.${p.alias}`));
      for (const [type, byName] of Object.entries(json.resource)) {
        if (!type.startsWith('aws_')) continue;
        for (const props of Object.values(byName)) expect(aliases.has(props.provider)).toBe(true);
      }
    }
  });

  it("gives each region its own VPC with a non-overlapping CIDR, built with that region's provider", () => {
    const vpcs = resources(three.json, 'aws_vpc');
    expect(vpcs).toHaveLength(3);
    expect(new Set(vpcs.map(providerOf)).size).toBe(3);
    const ranges = vpcs.map((v) => range(v.props.cidr_block));
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const [a, b] = [ranges[i]!, ranges[j]!];
        expect(a[1] < b[0] || b[1] < a[0]).toBe(true);
      }
    }
    // Subnets sit in their VPC's region.
    for (const subnet of resources(three.json, 'aws_subnet')) {
      const vpc = vpcs.find((v) => refersTo(subnet.props.vpc_id, v.address))!;
      expect(providerOf(subnet)).toBe(providerOf(vpc));
    }
  });

  it("puts each shard primary in one region and its replica in another, encrypted with that region's key", () => {
    for (const { json, deployment } of [s, three]) {
      const dbs = resources(json, 'aws_db_instance');
      const primaries = dbs.filter((d) => d.props.replicate_source_db === undefined);
      const replicas = dbs.filter((d) => d.props.replicate_source_db !== undefined);
      expect(primaries).toHaveLength(2);
      expect(replicas).toHaveLength(2);
      expect(new Set(primaries.map(providerOf)).size).toBe(Math.min(2, deployment.regions.length));
      for (const primary of primaries) {
        const mine = replicas.filter((r) => r.props.replicate_source_db === `\${${primary.address}.arn}`);
        expect(mine).toHaveLength(1);
        const replica = mine[0]!;
        expect(providerOf(replica)).not.toBe(providerOf(primary));
        expect(replica.props.storage_encrypted).toBe(true);
        const key = String(replica.props.kms_key_id).match(/\$\{(aws_kms_key\.[^.]+)\.arn\}/)![1]!;
        expect(providerAt(json, key)).toBe(providerOf(replica));
        const group = String(replica.props.db_subnet_group_name).match(/\$\{(aws_db_subnet_group\.[^.]+)\.name\}/)![1]!;
        expect(providerAt(json, group)).toBe(providerOf(replica));
        expect(primary.props.backup_retention_period).toBeGreaterThan(0);
      }
      for (const db of dbs)
        expect(db.props).toMatchObject({ deletion_protection: false, skip_final_snapshot: true, publicly_accessible: false });
    }
  });

  it('peers every pair of regions and routes both ways through the private route tables', () => {
    const { json } = three;
    const peerings = resources(json, 'aws_vpc_peering_connection');
    expect(peerings).toHaveLength(3);
    const privateTables = resources(json, 'aws_route_table').filter((t) => t.props.tags.Name.endsWith('-private'));
    for (const peering of peerings) {
      expect(peering.props.peer_region).toBeDefined();
      const accepter = resources(json, 'aws_vpc_peering_connection_accepter').find((a) =>
        refersTo(a.props.vpc_peering_connection_id, peering.address),
      )!;
      expect(accepter.props.auto_accept).toBe(true);
      expect(providerOf(accepter)).not.toBe(providerOf(peering));
      const routes = resources(json, 'aws_route').filter(
        (r) =>
          refersTo(r.props.vpc_peering_connection_id, peering.address) || refersTo(r.props.vpc_peering_connection_id, accepter.address),
      );
      expect(new Set(routes.map(providerOf))).toEqual(new Set([providerOf(peering), providerOf(accepter)]));
      for (const route of routes) expect(privateTables.some((t) => refersTo(route.props.route_table_id, t.address))).toBe(true);
    }
  });

  it('routes the API name by latency: one health-checked record per region in a force-destroyable zone', () => {
    for (const { json, deployment } of [s, three]) {
      const zone = one(json, 'aws_route53_zone');
      expect(zone.props.force_destroy).toBe(true);
      const records = resources(json, 'aws_route53_record');
      const checks = resources(json, 'aws_route53_health_check');
      expect(records).toHaveLength(deployment.regions.length);
      expect(checks).toHaveLength(deployment.regions.length);
      expect(records.map((r) => block(r.props.latency_routing_policy).region).sort()).toEqual([...deployment.regions].sort());
      for (const record of records) {
        expect(record.props.set_identifier).toBe(block(record.props.latency_routing_policy).region);
        expect(checks.some((c) => refersTo(record.props.health_check_id, c.address))).toBe(true);
        expect(refersTo(record.props.zone_id, zone.address)).toBe(true);
      }
      expect(new Set(records.map((r) => r.props.name)).size).toBe(1);
    }
  });

  it('runs MSK per region over 3 private subnets with TLS and encryption at rest, reachable only from lab VPCs', () => {
    const { json } = three;
    const clusters = resources(json, 'aws_msk_cluster');
    expect(clusters).toHaveLength(3);
    const vpcCidrs = resources(json, 'aws_vpc')
      .map((v) => v.props.cidr_block)
      .sort();
    for (const { props } of clusters) {
      const info = block(props.broker_node_group_info);
      expect(info.client_subnets).toHaveLength(3);
      expect(props.number_of_broker_nodes % info.client_subnets.length).toBe(0);
      expect(props.number_of_broker_nodes).toBe(3);
      const enc = block(props.encryption_info);
      expect(block(enc.encryption_in_transit)).toMatchObject({ client_broker: 'TLS', in_cluster: true });
      expect(enc.encryption_at_rest_kms_key_arn).toMatch(/^\$\{aws_kms_key\./);
      const sgAddress = String(info.security_groups[0]).match(/\$\{(aws_security_group\.[^.]+)\.id\}/)![1]!;
      const rules = resources(json, 'aws_vpc_security_group_ingress_rule').filter((r) => refersTo(r.props.security_group_id, sgAddress));
      expect(new Set(rules.map((r) => r.props.from_port))).toEqual(new Set([9094, 9098]));
      expect([...new Set(rules.map((r) => r.props.cidr_ipv4))].sort()).toEqual(vpcCidrs);
    }
  });

  it('runs an EKS cluster and node group per region, with the IAM roles created once', () => {
    const { json } = three;
    const clusters = resources(json, 'aws_eks_cluster');
    expect(clusters).toHaveLength(3);
    expect(new Set(clusters.map(providerOf)).size).toBe(3);
    expect(resources(json, 'aws_eks_node_group')).toHaveLength(3);
    expect(resources(json, 'aws_iam_role')).toHaveLength(2);
    expect(resources(json, 'aws_nat_gateway')).toHaveLength(3);
  });

  it('outputs what the spec lists, per region where the lab has several', () => {
    const out = three.json.output!;
    const eks = THREE.split(',').flatMap((r) => Object.values(clusterOutputNames(r)));
    expect(Object.keys(out).sort()).toEqual([...three.deployment.lab.outputs.map((o) => o.name), ...eks].sort());
    expect(Object.keys(out.eks_cluster_names!.value as object).sort()).toEqual(THREE.split(',').sort());
    expect(Object.keys(out.kafka_bootstrap!.value as object)).toHaveLength(3);
    expect(out.postgres_password!.sensitive).toBe(true);
  });
});
