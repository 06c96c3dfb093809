// The VMs of an AWS plan: each VM's security group (SSH, a PostgreSQL it hosts and the ports of
// the services it hosts, from the allowed CIDR only), and its cloud-init: a PostgreSQL server
// whose password it reads from SSM, or the environment of the services it hosts (the endpoints
// of the data services they use; never a password).
import { POSTGRES_PORT } from './aws.js';
import { checkVm } from './aws-plan-checks.js';
import { vmIngress } from './aws-plan-ingress.js';
import type { Placed, RegionPlan, SecurityGroupPlan, VmPlan } from './aws-plan-types.js';
import { ref, type EnvVar, type PlanString, type PlanValue, type Ref, type UserDataPlan } from './aws-plan-values.js';
import type { LabDeployment } from './deployment.js';
import { ValidationError } from './errors.js';
import type { ComponentOf, LabSpec } from './types.js';
import { componentsOf } from './validate.js';
import { postgresUrl } from './urls.js';

/** Where an address known only at apply time goes in a URL. */
const HOST_SLOT = 'vm-public-ip.invalid';

/** What planning the VMs needs from the rest of the plan. */
export interface VmPlanning {
  readonly d: LabDeployment;
  readonly primary: RegionPlan;
  readonly hasCluster: boolean;
  /** Output name -> value. */
  readonly values: Map<string, PlanValue>;
  /** Each data component's connection settings. */
  readonly env: ReadonlyMap<string, readonly EnvVar[]>;
  readonly bucketArns: ReadonlyMap<string, Ref>;
  readonly vmSecurityGroups: SecurityGroupPlan[];
  physical(region: RegionPlan | undefined, ...parts: string[]): string;
  place(region: RegionPlan, id: string, perRegion: boolean): Placed;
  secret(componentId: string, what: string): Ref;
}

/** Services with no cluster to run on are hosted by the app VMs. */
function hostedServices(lab: LabSpec, vm: ComponentOf<'vm'>, hasCluster: boolean): ComponentOf<'service'>[] {
  return vm.role === 'app-host' && !hasCluster ? componentsOf(lab, 'service') : [];
}

const hostedPostgres = (lab: LabSpec, vm: ComponentOf<'vm'>) => componentsOf(lab, 'postgres').filter((pg) => pg.hostVm === vm.id);

export function planVmSecurityGroups(p: VmPlanning, lab: LabSpec): void {
  for (const vm of componentsOf(lab, 'vm')) {
    const ports = [{ port: 22, what: 'SSH' }];
    if (hostedPostgres(lab, vm).length > 0) ports.push({ port: POSTGRES_PORT, what: 'PostgreSQL' });
    for (const s of hostedServices(lab, vm, p.hasCluster)) if (s.port > 0) ports.push({ port: s.port, what: `${s.id} service` });
    p.vmSecurityGroups.push({
      ...p.place(p.primary, `${vm.id}-sg`, false),
      name: p.physical(undefined, vm.id),
      description: `${vm.id}: reachable only from the allowed CIDR`,
      ingress: vmIngress(p.d.allowCidr, ports),
    });
  }
}

export function planVms(p: VmPlanning, lab: LabSpec): VmPlan[] {
  return componentsOf(lab, 'vm').map((vm) => {
    const at = p.place(p.primary, vm.id, false);
    checkVm(at.path, { diskGb: vm.diskGb, securityGroups: 1 });
    const hosted = hostedPostgres(lab, vm);
    if (hosted.length > 1) throw new ValidationError(`${at.path}: hosts ${hosted.length} PostgreSQL servers; one per VM`);
    const pg = hosted[0];
    const access = pg !== undefined ? postgresHost(p, pg, at) : appHost(p, lab, vm);
    p.values.set(`${vm.id}_public_ip`, ref(at.uid, 'public-ip'));
    const settings = { name: p.physical(undefined, vm.id), instanceType: vm.instanceType, diskGb: vm.diskGb };
    return { ...at, settings, securityGroup: ref(`${vm.id}-sg`, 'id'), ...access };
  });
}

type VmAccess = Pick<VmPlan, 'userData' | 'readParameters' | 'buckets'>;

/** A VM that runs PostgreSQL itself, reading its generated password from SSM at boot. */
function postgresHost(p: VmPlanning, pg: ComponentOf<'postgres'>, vm: Placed): VmAccess {
  const password = p.secret(pg.id, 'password');
  const parameter = (attribute: 'parameter-name' | 'parameter-arn') => ref(password.ref, attribute);
  const userData: UserDataPlan = {
    template: 'postgres-host.sh',
    values: {
      region: { quoted: p.primary.region },
      pgVersion: { quoted: pg.version },
      database: { quoted: pg.database },
      user: { quoted: pg.user },
      passwordParameter: { quoted: parameter('parameter-name') },
      allowCidr: { quoted: p.d.allowCidr ?? '' },
      shopSchema: { file: 'shop-schema.sql' },
    },
  };
  p.values.set('postgres_password', password);
  // The URL comes from the one URL builder; the VM's address exists only once it is created, so
  // the builder writes a slot that the engine's reference fills.
  const [before, after] = postgresUrl({ host: HOST_SLOT, port: POSTGRES_PORT, user: pg.user, database: pg.database }).split(HOST_SLOT) as [
    string,
    string,
  ];
  p.values.set('postgres_url', { join: [before, ref(vm.uid, 'public-ip'), after] });
  return { userData, readParameters: [parameter('parameter-arn')], buckets: [] };
}

/** A VM that hosts the lab's services: their port and the endpoints of what they use, in /etc/labforge/lab.env. */
function appHost(p: VmPlanning, lab: LabSpec, vm: ComponentOf<'vm'>): VmAccess {
  // Later settings of a name replace earlier ones in place, as Object.assign does.
  const env = new Map<string, PlanString>([['AWS_REGION', p.primary.region]]);
  const buckets: Ref[] = [];
  for (const s of hostedServices(lab, vm, p.hasCluster)) {
    if (s.port > 0) env.set('LABFORGE_API_HOST', '0.0.0.0').set('LABFORGE_API_PORT', String(s.port));
    for (const used of s.uses) {
      for (const e of p.env.get(used) ?? []) env.set(e.name, e.value);
      const arn = p.bucketArns.get(used);
      if (arn !== undefined && !buckets.includes(arn)) buckets.push(arn);
    }
  }
  const lines = [...env].map(([name, value]) => ({ name, value }));
  return { userData: { template: 'app-host.sh', values: { env: { env: lines } } }, readParameters: [], buckets };
}
