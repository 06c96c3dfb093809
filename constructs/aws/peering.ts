// Cross-region VPC peering between two lab regions, with routes both ways in the private
// route tables. Each side's resources use that side's provider.
import { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { VpcPeeringConnectionAccepterA } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter/index.js';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection/index.js';
import { checkPeering } from '../model/aws-plan-checks.js';

export interface PeeringSide {
  readonly region: string;
  readonly provider: AwsProvider;
  readonly vpcId: string;
  readonly cidr: string;
  /** Route tables that get a route to the other side's CIDR. */
  readonly routeTableIds: readonly string[];
}

export interface RegionPeeringProps {
  /** Name tag of the connection. */
  readonly name: string;
  readonly requester: PeeringSide;
  readonly accepter: PeeringSide;
}

export class RegionPeering extends Construct {
  readonly connection: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: RegionPeeringProps) {
    super(scope, id);
    const { requester, accepter } = props;
    checkPeering(this.node.path, requester, accepter);
    this.connection = new VpcPeeringConnection(this, 'request', {
      provider: requester.provider,
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      peerRegion: accepter.region,
      // auto_accept only works within one region; the accepter side accepts below.
      autoAccept: false,
      tags: { Name: props.name },
    });
    const accept = new VpcPeeringConnectionAccepterA(this, 'accept', {
      provider: accepter.provider,
      vpcPeeringConnectionId: this.connection.id,
      autoAccept: true,
      tags: { Name: props.name },
    });
    requester.routeTableIds.forEach((routeTableId, i) => {
      new Route(this, `to-${accepter.region}-${i}`, {
        provider: requester.provider,
        routeTableId,
        destinationCidrBlock: accepter.cidr,
        vpcPeeringConnectionId: this.connection.id,
        dependsOn: [accept],
      });
    });
    accepter.routeTableIds.forEach((routeTableId, i) => {
      new Route(this, `to-${requester.region}-${i}`, {
        provider: accepter.provider,
        routeTableId,
        destinationCidrBlock: requester.cidr,
        vpcPeeringConnectionId: accept.id,
      });
    });
  }
}
