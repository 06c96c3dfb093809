// One AWS region of a Pulumi lab: an explicit aws.Provider carrying the lab tags. Every lab, one
// region or several, gets explicit providers and never uses the default one (a mock test checks
// each resource's provider), so no resource can land in a region by accident.
import * as pulumi from '@pulumi/pulumi';
import { Provider } from '@pulumi/aws/provider.js';
import { regionCode } from '../model/names.js';

export class LabRegion {
  readonly code: string;
  readonly provider: Provider;

  constructor(
    readonly region: string,
    /** Position in the lab's region list; picks the VPC CIDR. */
    readonly index: number,
    tags: Readonly<Record<string, string>>,
    parent: pulumi.Resource,
  ) {
    this.code = regionCode(region);
    this.provider = new Provider(`aws-${this.code}`, { region, defaultTags: { tags: { ...tags } } }, { parent });
  }

  /** Options for a component created in this region. */
  opts(parent: pulumi.Resource): pulumi.ComponentResourceOptions {
    return { parent, provider: this.provider };
  }
}

/** The type tokens of labforge's components: `labforge:aws:<Kind>`. */
export function componentType(kind: string): string {
  return `labforge:aws:${kind}`;
}
