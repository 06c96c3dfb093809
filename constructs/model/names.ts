// Physical names, in one place. Cloud services limit names differently; these helpers keep every
// name within the strictest limit it meets and unique per lab, region and component.

/** `lf-<lab>-<part>-<part>`: lowercase, hyphens, cut to `max` characters. */
export function physicalName(lab: string, parts: readonly (string | number)[], max = 63): string {
  const name = ['lf', lab, ...parts.map(String)]
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return name.slice(0, max).replace(/-$/, '');
}

/** Short region code used inside names: us-east-1 -> use1, eu-west-1 -> euw1. */
export function regionCode(region: string): string {
  const [area = '', direction = '', number = ''] = region.split('-');
  return `${area}${direction.replace('north', 'n').replace('south', 's').replace('east', 'e').replace('west', 'w').replace('central', 'c')}${number}`;
}

/** Non-overlapping /16 per region index: 10.10.0.0/16, 10.11.0.0/16, ... */
export function regionCidr(index: number): string {
  return `10.${10 + index}.0.0/16`;
}

/** /20 subnets inside a region's /16: public ones first, then private ones. */
export function subnetCidr(regionIndex: number, subnetIndex: number): string {
  return `10.${10 + regionIndex}.${subnetIndex * 16}.0/20`;
}

/** The topic the API publishes its domain events to, on every target (expert). */
export const EVENTS_TOPIC = 'users.events';

/** DNS zone of a lab with latency routing (expert): `<lab>.labforge.internal`. */
export function dnsZoneName(lab: string): string {
  return `${lab}.labforge.internal`;
}

// Kubernetes: names shared by the cluster-objects stack (cdktf) and the workload charts (cdk8s),
// so the charts can reference what the stack creates without either engine reading the other.

/** The lab's namespace in its cluster(s): `lf-<lab>`; with participants `lf-<lab>-<participant>`. */
export function k8sNamespace(lab: string, participant?: string): string {
  return physicalName(lab, participant === undefined ? [] : [participant]);
}

/** Secret (created by the cluster-objects stack from the cluster stack's outputs) the pods read passwords from. */
export function k8sSecretName(lab: string): string {
  return physicalName(lab, ['secrets']);
}

/** ConfigMap of data-store endpoints (known only after the cluster stack is applied). */
export function k8sEndpointsName(lab: string): string {
  return physicalName(lab, ['endpoints']);
}

/** Kubernetes group the learner's IAM principal is mapped to (EKS access entry). */
export function k8sLearnerGroup(lab: string, participant?: string): string {
  // Each participant has a group of their own, so one cannot change another's namespace.
  return physicalName(lab, participant === undefined ? ['learners'] : [participant, 'learners']);
}

/**
 * Outputs of the cluster (aws) stack that the cluster-objects stack configures its Kubernetes
 * provider from, per region: `eks_<code>_name`, `eks_<code>_endpoint`, `eks_<code>_ca`.
 */
export function clusterOutputNames(region: string): { readonly name: string; readonly endpoint: string; readonly ca: string } {
  const code = regionCode(region);
  return { name: `eks_${code}_name`, endpoint: `eks_${code}_endpoint`, ca: `eks_${code}_ca` };
}

/** Placeholder account in image references until the learner sets theirs (see the README). */
export const ACCOUNT_PLACEHOLDER = 'ACCOUNT_ID';

/** ECR image of one of the lab's repositories: `<account>.dkr.ecr.<region>.amazonaws.com/lf-<lab>/<repo>:<tag>`. */
export function ecrImage(lab: string, repository: string, region: string, account = ACCOUNT_PLACEHOLDER, tag = 'latest'): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com/${physicalName(lab, [])}/${repository}:${tag}`;
}
