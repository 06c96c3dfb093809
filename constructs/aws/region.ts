// One AWS region of a lab: its provider and the scope every regional construct is created in.
import { TerraformDataSource, TerraformResource, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { ValidationError } from '../model/errors.js';
import { regionCode } from '../model/names.js';

export interface RegionScopeProps {
  /** AWS region, e.g. `us-east-1`. */
  readonly region: string;
  /** Position in the lab's region list; picks the VPC CIDR. @default 0 */
  readonly index?: number;
  /** Provider alias; single-region labs use the default (unaliased) provider. @default none */
  readonly alias?: string;
  /** Tags every resource of the region carries through the provider's default_tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A scope bound to one region's provider. Constructs created inside need not know about
 * providers: `bindProviders` gives each AWS resource without one the region's provider, so a
 * multi-region lab cannot leave a resource in the wrong region by forgetting a prop.
 */
export class RegionScope extends Construct {
  readonly region: string;
  readonly index: number;
  readonly code: string;
  readonly provider: AwsProvider;

  constructor(scope: Construct, id: string, props: RegionScopeProps) {
    super(scope, id);
    this.region = props.region;
    this.index = props.index ?? 0;
    if (this.index < 0) throw new ValidationError(`${this.node.path}: index must be >= 0, got ${this.index}`);
    this.code = regionCode(props.region);
    this.provider = new AwsProvider(this, 'aws', {
      region: props.region,
      alias: props.alias,
      defaultTags: [{ tags: { ...props.tags } }],
    });
  }

  /** Assigns this region's provider to every AWS resource and data source below `root`. */
  bindProviders(root: Construct = this): void {
    bindProviders(root, this.provider);
  }
}

/** Gives `provider` to every AWS resource or data source under `root` that has none yet. */
export function bindProviders(root: Construct, provider: TerraformProvider): void {
  for (const node of root.node.findAll()) {
    if (!(node instanceof TerraformResource || node instanceof TerraformDataSource)) continue;
    if (node.provider !== undefined) continue;
    if (node.terraformGeneratorMetadata?.providerName !== 'aws') continue;
    node.provider = provider;
  }
}
