import { beforeAll, describe, expect, it } from 'vitest';
import { block, ingressOf, one, refersTo, resources, statements, synthLevel, type Found, type Synthesized } from './helpers.js';

describe('intermediate on aws (cdktf)', () => {
  let s: Synthesized;
  let publicSubnets: Found[];
  let privateSubnets: Found[];
  let appSg: Found;
  beforeAll(() => {
    s = synthLevel('intermediate');
    const subnets = resources(s.json, 'aws_subnet');
    publicSubnets = subnets.filter((x) => x.props.tags.Name.includes('-public-'));
    privateSubnets = subnets.filter((x) => x.props.tags.Name.includes('-private-'));
    appSg = resources(s.json, 'aws_security_group').find((g) => g.props.name === 'lf-intermediate-app')!;
  });

  it('spans 2 AZs with a public and a private subnet in each, and one NAT gateway with an EIP', () => {
    expect(publicSubnets).toHaveLength(2);
    expect(privateSubnets).toHaveLength(2);
    const azs = (list: Found[]) => new Set(list.map((x) => x.props.availability_zone));
    expect(azs(publicSubnets).size).toBe(2);
    expect(azs(privateSubnets).size).toBe(2);
    const nat = one(s.json, 'aws_nat_gateway');
    expect(refersTo(nat.props.allocation_id, one(s.json, 'aws_eip').address)).toBe(true);
    const natRoute = resources(s.json, 'aws_route').find((r) => refersTo(r.props.nat_gateway_id, nat.address));
    expect(natRoute?.props.destination_cidr_block).toBe('0.0.0.0/0');
  });

  it('runs the app VM in a public subnet with IMDSv2 and an encrypted root volume', () => {
    const vm = one(s.json, 'aws_instance').props;
    expect(publicSubnets.some((p) => refersTo(vm.subnet_id, p.address))).toBe(true);
    expect(block(vm.metadata_options).http_tokens).toBe('required');
    expect(block(vm.root_block_device).encrypted).toBe(true);
    expect(vm.user_data).not.toContain('random_password');
  });

  it('gives the app role only object access to the uploads bucket and listing of that bucket', () => {
    const bucket = one(s.json, 'aws_s3_bucket');
    const stmts = statements(one(s.json, 'aws_iam_role_policy').props.policy);
    const actions = stmts.flatMap((x) => x.Action).sort();
    expect(actions).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const list = stmts.find((x) => x.Action.includes('s3:ListBucket'))!;
    expect(list.Resource).toEqual([`\${${bucket.address}.arn}`]);
    const objects = stmts.find((x) => x.Action.includes('s3:GetObject'))!;
    expect(objects.Resource).toEqual([`\${${bucket.address}.arn}/*`]);
    expect(stmts.flatMap((x) => x.Resource)).not.toContain('*');
  });

  it('runs RDS PostgreSQL privately, encrypted, destroyable, with a generated password', () => {
    const db = one(s.json, 'aws_db_instance').props;
    expect(db).toMatchObject({
      engine: 'postgres',
      storage_encrypted: true,
      publicly_accessible: false,
      deletion_protection: false,
      skip_final_snapshot: true,
      db_name: 'lab',
      username: 'learner',
    });
    expect(db.password).toMatch(/^\$\{random_password\..+\.result\}$/);
    const group = one(s.json, 'aws_db_subnet_group').props;
    expect(group.subnet_ids).toHaveLength(2);
    for (const id of group.subnet_ids) expect(privateSubnets.some((p) => refersTo(id, p.address))).toBe(true);
  });

  it('lets only the app security group reach PostgreSQL and Redis', () => {
    const dbSg = resources(s.json, 'aws_security_group').find((g) => g.props.name === 'lf-intermediate-db')!;
    const cacheSg = resources(s.json, 'aws_security_group').find((g) => g.props.name === 'lf-intermediate-cache')!;
    for (const [sg, port] of [
      [dbSg, 5432],
      [cacheSg, 6379],
    ] as const) {
      const rules = ingressOf(s.json, sg.address);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ fromPort: port, toPort: port, cidrs: [] });
      expect(refersTo(rules[0]!.securityGroups[0], appSg.address)).toBe(true);
    }
  });

  it('runs Redis encrypted at rest and in transit with a generated AUTH token in private subnets', () => {
    const redis = one(s.json, 'aws_elasticache_replication_group').props;
    expect(redis.at_rest_encryption_enabled).toBe('true');
    expect(redis.transit_encryption_enabled).toBe(true);
    expect(redis.auth_token).toMatch(/^\$\{random_password\..+\.result\}$/);
    const group = one(s.json, 'aws_elasticache_subnet_group').props;
    for (const id of group.subnet_ids) expect(privateSubnets.some((p) => refersTo(id, p.address))).toBe(true);
  });

  it('keeps the uploads bucket private, encrypted, owner-enforced and force-destroyable', () => {
    const bucket = one(s.json, 'aws_s3_bucket');
    expect(bucket.props.force_destroy).toBe(true);
    const pab = one(s.json, 'aws_s3_bucket_public_access_block').props;
    expect(refersTo(pab.bucket, bucket.address)).toBe(true);
    expect(pab).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const sse = one(s.json, 'aws_s3_bucket_server_side_encryption_configuration').props;
    expect(['AES256', 'aws:kms']).toContain(block(sse.rule).apply_server_side_encryption_by_default.sse_algorithm);
    expect(block(one(s.json, 'aws_s3_bucket_ownership_controls').props.rule).object_ownership).toBe('BucketOwnerEnforced');
  });

  it('outputs what the spec lists, the password sensitive', () => {
    const out = s.json.output!;
    expect(Object.keys(out).sort()).toEqual(s.deployment.lab.outputs.map((o) => o.name).sort());
    expect(out.postgres_password!.sensitive).toBe(true);
    expect(refersTo(out.uploads_bucket!.value, one(s.json, 'aws_s3_bucket').address)).toBe(true);
  });
});
