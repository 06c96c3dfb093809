// The engine-neutral inventory helpers, and the Pulumi -> Terraform table against @pulumi/*.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PULUMI_KINDS,
  camelize,
  countByKind,
  keyProperties,
  kindOfPulumiType,
  pick,
  type InventoryItem,
} from '../../constructs/model/inventory.js';

const NODE_MODULES = join(import.meta.dirname, '../../node_modules');

describe('PULUMI_KINDS', () => {
  it.each(Object.keys(PULUMI_KINDS))('%s is a non-deprecated class of the installed @pulumi package', (token) => {
    // `aws:ec2/instance:Instance` is declared in @pulumi/aws/ec2/instance.js; random's in @pulumi/random/<name>.js.
    const [pkg, module] = token.split(':') as [string, string];
    const file = join(NODE_MODULES, '@pulumi', pkg, `${pkg === 'random' ? module.replace(/^index\//, '') : module}.js`);
    expect(existsSync(file), file).toBe(true);
    const source = readFileSync(file, 'utf8');
    expect(source).toContain(`__pulumiType = '${token}'`);
    expect(source).not.toMatch(/ is deprecated: /);
  });

  it('maps each Terraform kind from exactly one token', () => {
    const kinds = Object.values(PULUMI_KINDS);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kindOfPulumiType('aws:rds/instance:Instance')).toBe('aws_db_instance');
    expect(kindOfPulumiType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')).toBe(
      'aws_s3_bucket_server_side_encryption_configuration',
    );
  });

  it('names an unknown token in the error', () => {
    expect(() => kindOfPulumiType('aws:s3/bucketV2:BucketV2')).toThrow(/'aws:s3\/bucketV2:BucketV2'/);
  });
});

describe('key properties', () => {
  it('camelizes keys deeply but keeps tag names as written', () => {
    const body = { root_block_device: [{ volume_size: 20 }], tags: { 'labforge:lab': 'x', my_tag: 'y' } };
    expect(camelize(body)).toEqual({ rootBlockDevice: [{ volumeSize: 20 }], tags: { 'labforge:lab': 'x', my_tag: 'y' } });
  });

  it('follows a dotted path through one-element arrays (Terraform blocks) and objects (Pulumi)', () => {
    expect(pick({ a: [{ b: { c: 1 } }] }, 'a.b.c')).toBe(1);
    expect(pick({ a: { b: [{ c: 2 }] } }, 'a.b.c')).toBe(2);
    expect(pick({ a: [{ b: 1 }, { b: 2 }] }, 'a.b')).toBeUndefined();
  });

  it('keeps only the listed paths present, references as strings, unknowns left out', () => {
    const inputs = camelize({
      instance_type: 't3.micro',
      subnet_id: '${aws_subnet.a.id}',
      associate_public_ip_address: undefined,
      root_block_device: [{ volume_size: '${var.size}', encrypted: true }],
    }) as Record<string, unknown>;
    expect(keyProperties('aws_instance', inputs)).toEqual({
      instanceType: 't3.micro',
      'rootBlockDevice.volumeSize': '${var.size}',
      'rootBlockDevice.encrypted': true,
    });
    expect(keyProperties('aws_route', inputs)).toEqual({});
  });

  it('counts items per kind with sorted keys', () => {
    const item = (kind: string): InventoryItem => ({ kind, type: kind, name: 'n', region: 'us-east-1', properties: {} });
    const counts = countByKind(['aws_vpc', 'aws_route_table', 'aws_route53_zone', 'aws_vpc'].map(item));
    expect(Object.entries(counts)).toEqual([
      ['aws_route53_zone', 1],
      ['aws_route_table', 1],
      ['aws_vpc', 2],
    ]);
  });
});
