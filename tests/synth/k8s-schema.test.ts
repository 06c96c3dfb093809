// Every synthesized Kubernetes object validates against the Kubernetes OpenAPI schema (the
// kubernetes-models package ships it per kind), so a typo in a field fails here, not at apply.
import { describe, expect, it } from 'vitest';
import { ofKind, renderLab, type Obj } from './k8s-helpers.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** kubernetes-models/<group>/<version>/<Kind>, core kinds under v1/. */
async function modelOf(o: Obj): Promise<ModelClass> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const path = group === '' ? `kubernetes-models/${version}/${o.kind}` : `kubernetes-models/${group}/${version}/${o.kind}`;
  const module = (await import(path)) as Record<string, ModelClass>;
  const model = module[o.kind];
  if (!model) throw new Error(`no schema for ${o.apiVersion} ${o.kind} in ${path}`);
  return model;
}

async function schemaErrors(objects: readonly Obj[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    const Model = await modelOf(o);
    try {
      new Model(o).validate();
    } catch (error) {
      errors.push(`${o.kind}/${o.metadata.name}: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`);
    }
  }
  return errors;
}

describe.each([
  ['advanced', 'in-cluster'],
  ['advanced', 'managed'],
  ['expert', 'in-cluster'],
  ['expert', 'managed'],
] as const)('%s lab, %s stores: Kubernetes schema', (level, backing) => {
  it('every object is valid for its kind', async () => {
    const { objects } = renderLab(level, backing);
    expect(objects.length).toBeGreaterThan(8);
    expect(await schemaErrors(objects)).toEqual([]);
  });
});

describe('the schema check itself', () => {
  it('rejects a Deployment whose replicas is a string and a Service port out of range', async () => {
    const { objects } = renderLab('advanced', 'in-cluster');
    const deployment = ofKind(objects, 'Deployment')[0]!;
    const service = ofKind(objects, 'Service')[0]!;
    const broken = [
      { ...deployment, spec: { ...deployment.spec, replicas: 'three' } },
      { ...service, spec: { ...service.spec, ports: [{ port: 'http' }] } },
    ] as Obj[];
    const errors = await schemaErrors(broken);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('Deployment/');
  });
});
