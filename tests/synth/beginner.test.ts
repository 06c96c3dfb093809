import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOW_CIDR,
  block,
  dataSources,
  ingressOf,
  one,
  refersTo,
  resources,
  statements,
  synthLevel,
  type Synthesized,
} from './helpers.js';

describe('beginner on aws (cdktf)', () => {
  let closed: Synthesized;
  let open: Synthesized;
  beforeAll(() => {
    closed = synthLevel('beginner');
    open = synthLevel('beginner', { allowCidr: ALLOW_CIDR });
  });

  it('reports the real resource count of the stack', () => {
    const counted = Object.values(closed.json.resource).reduce((n, byName) => n + Object.keys(byName).length, 0);
    expect(closed.resourceCount).toBe(counted);
    expect(counted).toBeGreaterThan(10);
  });

  it('builds a VPC with one public subnet routed to an internet gateway', () => {
    const { json } = closed;
    const vpc = one(json, 'aws_vpc');
    const subnet = one(json, 'aws_subnet');
    expect(refersTo(subnet.props.vpc_id, vpc.address)).toBe(true);
    const igw = one(json, 'aws_internet_gateway');
    const table = one(json, 'aws_route_table');
    const route = one(json, 'aws_route');
    expect(route.props.destination_cidr_block).toBe('0.0.0.0/0');
    expect(refersTo(route.props.gateway_id, igw.address)).toBe(true);
    expect(refersTo(route.props.route_table_id, table.address)).toBe(true);
    const assoc = one(json, 'aws_route_table_association');
    expect(refersTo(assoc.props.subnet_id, subnet.address)).toBe(true);
    expect(resources(json, 'aws_nat_gateway')).toHaveLength(0);
  });

  it('opens no ingress at all when no CIDR is allowed, but lets the VM reach out', () => {
    const sg = one(closed.json, 'aws_security_group');
    expect(ingressOf(closed.json, sg.address)).toEqual([]);
    const egress = resources(closed.json, 'aws_vpc_security_group_egress_rule');
    expect(egress.some((e) => refersTo(e.props.security_group_id, sg.address))).toBe(true);
  });

  it('opens exactly SSH and PostgreSQL, only to the allowed CIDR', () => {
    const sg = one(open.json, 'aws_security_group');
    const rules = ingressOf(open.json, sg.address);
    expect(rules.map((r) => r.fromPort).sort()).toEqual([22, 5432]);
    for (const r of rules) {
      expect(r.toPort).toBe(r.fromPort);
      expect(r.cidrs).toEqual([ALLOW_CIDR]);
    }
  });

  it('runs one instance with IMDSv2 required and an encrypted gp3 root volume of the spec size', () => {
    const vm = one(closed.json, 'aws_instance').props;
    expect(block(vm.metadata_options)).toMatchObject({ http_tokens: 'required', http_endpoint: 'enabled', http_put_response_hop_limit: 1 });
    const root = block(vm.root_block_device);
    const spec = closed.deployment.lab.components.find((c) => c.kind === 'vm');
    expect(root).toMatchObject({ encrypted: true, volume_type: 'gp3', volume_size: spec?.kind === 'vm' ? spec.diskGb : -1 });
    expect(root.tags['labforge:lab']).toBe('beginner');
  });

  it('takes the AMI from a data source filtered by the Debian owner account', () => {
    const [ami] = dataSources(closed.json, 'aws_ami');
    expect(ami).toBeDefined();
    expect(ami!.props.owners).toEqual(['136693071363']);
    expect(ami!.props.filter.find((f: { name: string }) => f.name === 'name').values[0]).toMatch(/^debian-12-amd64-/);
    expect(one(closed.json, 'aws_instance').props.ami).toBe(`\${${ami!.address}.id}`);
  });

  it('generates the password and keeps it in an SSM SecureString, not in user data', () => {
    const { json } = closed;
    const password = one(json, 'random_password');
    const param = one(json, 'aws_ssm_parameter');
    expect(param.props.type).toBe('SecureString');
    expect(refersTo(param.props.value, password.address)).toBe(true);
    const userData = one(json, 'aws_instance').props.user_data as string;
    expect(userData).not.toContain('random_password');
    expect(userData).toContain('aws ssm get-parameter');
    expect(refersTo(userData, param.address)).toBe(true);
  });

  it('lets the instance role read only that one parameter', () => {
    const { json } = closed;
    const param = one(json, 'aws_ssm_parameter');
    const policy = one(json, 'aws_iam_role_policy');
    const stmts = statements(policy.props.policy);
    expect(stmts).toHaveLength(1);
    expect(stmts[0]!.Action).toEqual(['ssm:GetParameter']);
    expect(stmts[0]!.Resource).toEqual([`\${${param.address}.arn}`]);
    const profile = one(json, 'aws_iam_instance_profile');
    expect(refersTo(one(json, 'aws_instance').props.iam_instance_profile, profile.address)).toBe(true);
  });

  it('cloud-init installs PostgreSQL, the spec role and database, SCRAM for the allowed CIDR and the shop schema', () => {
    const closedData = one(closed.json, 'aws_instance').props.user_data as string;
    const openData = one(open.json, 'aws_instance').props.user_data as string;
    expect(openData).toContain("PG_VERSION='15'");
    expect(openData).toContain("DB_NAME='lab'");
    expect(openData).toContain("DB_USER='learner'");
    expect(openData).toContain(`ALLOW_CIDR='${ALLOW_CIDR}'`);
    expect(openData).toMatch(/host \$DB_NAME \$DB_USER \$ALLOW_CIDR scram-sha-256/);
    expect(openData).toContain("listen_addresses = '*'");
    expect(closedData).toContain("ALLOW_CIDR=''");
    for (const table of ['customers', 'products', 'orders']) expect(openData).toContain(`CREATE TABLE IF NOT EXISTS ${table}`);
  });

  it('outputs the IP, the connection URL and the password, the password marked sensitive', () => {
    const out = closed.json.output!;
    expect(Object.keys(out).sort()).toEqual(['postgres_password', 'postgres_url', 'server_public_ip']);
    expect(out.postgres_password!.sensitive).toBe(true);
    expect(out.server_public_ip!.sensitive).toBe(false);
    expect(String(out.postgres_url!.value)).toMatch(/^postgres:\/\/learner@\$\{aws_instance\..+\.public_ip\}:5432\/lab$/);
  });
});
