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

/** DNS zone of a lab with latency routing (expert): `<lab>.labforge.internal`. */
export function dnsZoneName(lab: string): string {
  return `${lab}.labforge.internal`;
}
