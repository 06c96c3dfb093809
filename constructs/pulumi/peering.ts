// Cross-region VPC peering between two lab regions, with routes both ways in the private route
// tables. Each side's resources use that side's provider.
import * as pulumi from '@pulumi/pulumi';
import type { Provider } from '@pulumi/aws/provider.js';
import { Route } from '@pulumi/aws/ec2/route.js';
import { VpcPeeringConnection } from '@pulumi/aws/ec2/vpcPeeringConnection.js';
import { VpcPeeringConnectionAccepter } from '@pulumi/aws/ec2/vpcPeeringConnectionAccepter.js';
import { checkPeering } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export interface PeeringSide {
  readonly region: string;
  readonly provider: Provider;
  readonly vpcId: pulumi.Input<string>;
  readonly cidr: string;
  readonly routeTableIds: readonly pulumi.Input<string>[];
}

export class RegionPeering extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: { readonly name: string; readonly requester: PeeringSide; readonly accepter: PeeringSide },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('RegionPeering'), name, {}, opts);
    const { requester, accepter } = args;
    checkPeering(name, requester, accepter);
    const connection = new VpcPeeringConnection(
      `${name}-request`,
      // auto_accept only works within one region; the accepter side accepts below.
      { vpcId: requester.vpcId, peerVpcId: accepter.vpcId, peerRegion: accepter.region, autoAccept: false, tags: { Name: args.name } },
      { parent: this, provider: requester.provider },
    );
    const accept = new VpcPeeringConnectionAccepter(
      `${name}-accept`,
      { vpcPeeringConnectionId: connection.id, autoAccept: true, tags: { Name: args.name } },
      { parent: this, provider: accepter.provider },
    );
    requester.routeTableIds.forEach((routeTableId, i) => {
      new Route(
        `${name}-to-${accepter.region}-${i}`,
        { routeTableId, destinationCidrBlock: accepter.cidr, vpcPeeringConnectionId: connection.id },
        { parent: this, provider: requester.provider, dependsOn: [accept] },
      );
    });
    accepter.routeTableIds.forEach((routeTableId, i) => {
      new Route(
        `${name}-to-${requester.region}-${i}`,
        { routeTableId, destinationCidrBlock: requester.cidr, vpcPeeringConnectionId: accept.id },
        { parent: this, provider: accepter.provider },
      );
    });
    this.registerOutputs({ id: connection.id });
  }
}
