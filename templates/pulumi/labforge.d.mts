// Types of the vendored labforge components (labforge.mjs, bundled from labforge's
// constructs/pulumi at build time). Hand-written and kept small: the program only needs the
// component's constructor and its outputs; the lab spec itself is labforge's data, read from
// deployment.json, so it is typed loosely here.
import * as pulumi from '@pulumi/pulumi';

/** One output the lab declares; sensitive ones are pulumi secrets. */
export interface LabforgeOutputSpec {
  readonly name: string;
  readonly description: string;
  readonly sensitive: boolean;
}

/** A lab as labforge resolved it: `labforge synth` writes it to deployment.json. */
export interface LabforgeDeployment {
  /** Lab instance name, e.g. `beginner`. */
  readonly name: string;
  /** labforge's LabSpec of the level (and more fields: skills, regions, exercises). */
  readonly lab: {
    readonly level: string;
    readonly title: string;
    readonly components: readonly object[];
    readonly outputs: readonly LabforgeOutputSpec[];
  };
  readonly owner: string;
  /** ISO-8601 UTC instant recorded in the `labforge:expires-at` tag. */
  readonly expiresAt: string;
  /** AWS regions, the first one primary. */
  readonly regions: readonly string[];
  /** Where SSH and database ports may be reached from; absent opens nothing. */
  readonly allowCidr?: string;
}

/** Every resource of one lab (type token `labforge:aws:Lab`). */
export declare class LabforgeLab extends pulumi.ComponentResource {
  constructor(name: string, args: { deployment: LabforgeDeployment }, opts?: pulumi.ComponentResourceOptions);
  /** The lab's outputs by name (the lab's `outputs`, plus the EKS cluster outputs); sensitive ones are secrets. */
  readonly outputs: Record<string, pulumi.Output<unknown>>;
}
