// Latency-based DNS across the lab's regions: one zone, a health check and a latency record per
// region, each a CNAME to the per-region name `api.<region>.<zone>` (see constructs/aws/dns.ts).
import * as pulumi from '@pulumi/pulumi';
import { HealthCheck } from '@pulumi/aws/route53/healthCheck.js';
import { Record as DnsRecord } from '@pulumi/aws/route53/record.js';
import { Zone } from '@pulumi/aws/route53/zone.js';
import { checkDns } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export class LatencyDns extends pulumi.ComponentResource {
  /** The latency-routed name. */
  readonly fqdn: string;

  constructor(
    name: string,
    args: { readonly zoneName: string; readonly regions: readonly string[] },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('LatencyDns'), name, {}, opts);
    checkDns(name, args.regions);
    const child = { parent: this };
    const zone = new Zone(`${name}-zone`, { name: args.zoneName, forceDestroy: true, comment: 'labforge lab zone' }, child);
    this.fqdn = `api.${args.zoneName}`;
    for (const region of args.regions) {
      const target = `api.${region}.${args.zoneName}`;
      const check = new HealthCheck(
        `${name}-health-${region}`,
        {
          type: 'HTTPS',
          fqdn: target,
          port: 443,
          resourcePath: '/health',
          failureThreshold: 3,
          requestInterval: 30,
          tags: { Name: target },
        },
        child,
      );
      new DnsRecord(
        `${name}-latency-${region}`,
        {
          zoneId: zone.zoneId,
          name: this.fqdn,
          type: 'CNAME',
          ttl: 60,
          records: [target],
          setIdentifier: region,
          latencyRoutingPolicies: [{ region }],
          healthCheckId: check.id,
        },
        child,
      );
    }
    this.registerOutputs({ fqdn: this.fqdn });
  }
}
