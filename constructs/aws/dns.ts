// Latency-based DNS across the lab's regions: one zone, a health check and a latency record per
// region. There is no load balancer in the AWS engine (the Kubernetes engine exposes the API
// per region), so each latency record is a CNAME to the per-region name `api.<region>.<zone>`,
// which the region's load balancer is given once it exists.
import { Construct } from 'constructs';
import { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check/index.js';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record/index.js';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone/index.js';
import { checkDns } from '../model/aws-plan-checks.js';

export interface LatencyDnsProps {
  /** Zone name, e.g. `expert.labforge.internal`. */
  readonly zoneName: string;
  /** Regions that answer for the name. */
  readonly regions: readonly string[];
  /** First label of the routed name. @default 'api' */
  readonly recordName?: string;
  /** Health check path on the per-region endpoint. @default '/health' */
  readonly healthPath?: string;
  /** Health check port (HTTPS). @default 443 */
  readonly healthPort?: number;
}

export class LatencyDns extends Construct {
  readonly zone: Route53Zone;
  /** The latency-routed name. */
  readonly fqdn: string;
  readonly healthChecks = new Map<string, Route53HealthCheck>();

  constructor(scope: Construct, id: string, props: LatencyDnsProps) {
    super(scope, id);
    checkDns(this.node.path, props.regions);
    const label = props.recordName ?? 'api';
    this.zone = new Route53Zone(this, 'zone', { name: props.zoneName, forceDestroy: true, comment: 'labforge lab zone' });
    this.fqdn = `${label}.${props.zoneName}`;
    for (const region of props.regions) {
      const target = `${label}.${region}.${props.zoneName}`;
      const check = new Route53HealthCheck(this, `health-${region}`, {
        type: 'HTTPS',
        fqdn: target,
        port: props.healthPort ?? 443,
        resourcePath: props.healthPath ?? '/health',
        failureThreshold: 3,
        requestInterval: 30,
        tags: { Name: target },
      });
      this.healthChecks.set(region, check);
      new Route53Record(this, `latency-${region}`, {
        zoneId: this.zone.zoneId,
        name: this.fqdn,
        type: 'CNAME',
        ttl: 60,
        records: [target],
        setIdentifier: region,
        latencyRoutingPolicy: { region },
        healthCheckId: check.id,
      });
    }
  }
}
