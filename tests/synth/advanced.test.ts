import { beforeAll, describe, expect, it } from 'vitest';
import { clusterOutputNames } from '../../constructs/model/names.js';
import { ALLOW_CIDR, block, ingressOf, one, refersTo, resources, synthLevel, type Found, type Synthesized } from './helpers.js';

const MANAGED = 'arn:aws:iam::aws:policy/';

describe('advanced on aws (cdktf)', () => {
  let s: Synthesized;
  let open: Synthesized;
  let privateSubnets: Found[];
  let cluster: Found;
  beforeAll(() => {
    s = synthLevel('advanced');
    open = synthLevel('advanced', { allowCidr: ALLOW_CIDR });
    privateSubnets = resources(s.json, 'aws_subnet').filter((x) => x.props.tags.Name.includes('-private-'));
    cluster = one(s.json, 'aws_eks_cluster');
  });

  const isPrivateSubnet = (id: string) => privateSubnets.some((p) => refersTo(id, p.address));
  const fromCluster = (json: typeof s.json, sgName: string, port: number) => {
    const sg = resources(json, 'aws_security_group').find((g) => g.props.name === sgName)!;
    const rules = ingressOf(json, sg.address);
    return (
      rules.length > 0 &&
      rules.every(
        (r) =>
          r.fromPort === port &&
          r.cidrs.length === 0 &&
          r.securityGroups.every((g) => refersTo(g, cluster.address) && g.includes('cluster_security_group_id')),
      )
    );
  };

  it('spans 3 AZs with private subnets', () => {
    expect(privateSubnets).toHaveLength(3);
    expect(new Set(privateSubnets.map((x) => x.props.availability_zone)).size).toBe(3);
  });

  it('creates the EKS cluster role with AmazonEKSClusterPolicy and the node role with the three node policies', () => {
    const roles = resources(s.json, 'aws_iam_role');
    const clusterRole = roles.find((r) => refersTo(cluster.props.role_arn, r.address))!;
    const nodeRole = roles.find((r) => refersTo(one(s.json, 'aws_eks_node_group').props.node_role_arn, r.address))!;
    const policiesOf = (role: Found) =>
      resources(s.json, 'aws_iam_role_policy_attachment')
        .filter((a) => refersTo(a.props.role, role.address))
        .map((a) => String(a.props.policy_arn).replace(MANAGED, ''))
        .sort();
    expect(policiesOf(clusterRole)).toEqual(['AmazonEKSClusterPolicy']);
    expect(policiesOf(nodeRole)).toEqual(['AmazonEC2ContainerRegistryReadOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy']);
  });

  it('keeps the API endpoint private without an allowed CIDR, and opens it only to that CIDR with one', () => {
    expect(block(cluster.props.vpc_config)).toMatchObject({ endpoint_private_access: true, endpoint_public_access: false });
    expect(block(cluster.props.vpc_config).public_access_cidrs).toBeUndefined();
    const vpc = block(one(open.json, 'aws_eks_cluster').props.vpc_config);
    expect(vpc).toMatchObject({ endpoint_public_access: true, public_access_cidrs: [ALLOW_CIDR] });
  });

  it('encrypts secrets with a rotating KMS key that can be deleted after 7 days', () => {
    const key = one(s.json, 'aws_kms_key');
    expect(key.props).toMatchObject({ deletion_window_in_days: 7, enable_key_rotation: true });
    const enc = block(cluster.props.encryption_config);
    expect(enc.resources).toEqual(['secrets']);
    expect(refersTo(block(enc.provider).key_arn, key.address)).toBe(true);
  });

  it('runs a managed node group in the private subnets, sized by the spec, from a hardened launch template', () => {
    const nodes = one(s.json, 'aws_eks_node_group').props;
    expect(nodes.subnet_ids.every(isPrivateSubnet)).toBe(true);
    expect(block(nodes.scaling_config)).toEqual({ min_size: 2, max_size: 4, desired_size: 2 });
    const lt = one(s.json, 'aws_launch_template');
    expect(refersTo(block(nodes.launch_template).id, lt.address)).toBe(true);
    expect(block(lt.props.metadata_options).http_tokens).toBe('required');
    expect(block(lt.props.block_device_mappings).ebs.encrypted).toBe('true');
    const instanceTags = lt.props.tag_specifications.find((t: { resource_type: string }) => t.resource_type === 'instance').tags;
    expect(instanceTags).toMatchObject({ 'labforge:lab': 'advanced', 'labforge:owner': 'tester' });
  });

  it('runs RabbitMQ on Amazon MQ privately, in one private subnet, reachable on 5671 from the cluster only', () => {
    const mq = one(s.json, 'aws_mq_broker').props;
    expect(mq).toMatchObject({ engine_type: 'RabbitMQ', publicly_accessible: false, deployment_mode: 'SINGLE_INSTANCE' });
    expect(mq.subnet_ids).toHaveLength(1);
    expect(isPrivateSubnet(mq.subnet_ids[0])).toBe(true);
    expect(block(mq.user)).toMatchObject({ username: 'learner' });
    expect(block(mq.user).password).toMatch(/^\$\{random_password\./);
    expect(fromCluster(s.json, 'lf-advanced-mq', 5671)).toBe(true);
  });

  it('lets the cluster, and only the cluster, reach PostgreSQL and Redis', () => {
    expect(fromCluster(s.json, 'lf-advanced-db', 5432)).toBe(true);
    expect(fromCluster(s.json, 'lf-advanced-cache', 6379)).toBe(true);
    const db = one(s.json, 'aws_db_instance').props;
    expect(db).toMatchObject({
      storage_encrypted: true,
      publicly_accessible: false,
      deletion_protection: false,
      skip_final_snapshot: true,
    });
  });

  it('creates one ECR repository per spec name: immutable, scanned on push, encrypted, force-deletable', () => {
    const repos = resources(s.json, 'aws_ecr_repository');
    expect(repos.map((r) => r.props.name).sort()).toEqual(['lf-advanced/api', 'lf-advanced/worker']);
    for (const { props } of repos) {
      expect(props).toMatchObject({ force_delete: true, image_tag_mutability: 'IMMUTABLE' });
      expect(block(props.image_scanning_configuration).scan_on_push).toBe(true);
      expect(block(props.encryption_configuration).encryption_type).toMatch(/^(AES256|KMS)$/);
    }
  });

  it('outputs what the spec lists plus the EKS connection the cluster-objects stack reads, secrets sensitive', () => {
    const out = s.json.output!;
    const eks = clusterOutputNames('us-east-1');
    expect(Object.keys(out).sort()).toEqual([...s.deployment.lab.outputs.map((o) => o.name), eks.name, eks.endpoint, eks.ca].sort());
    const cluster = one(s.json, 'aws_eks_cluster').address;
    expect(refersTo(out[eks.endpoint]!.value, cluster)).toBe(true);
    expect(out[eks.ca]!.value).toMatch(/certificate_authority\[0\]\.data/);
    expect(out.postgres_password!.sensitive).toBe(true);
    expect(out.mq_password!.sensitive).toBe(true);
  });
});
