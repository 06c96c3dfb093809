// ECR repositories: immutable tags, scan on push, encrypted, deletable with their images.
import { Construct } from 'constructs';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';

export interface LabRegistryProps {
  /** Namespace of the repositories, e.g. the lab name: `<namespace>/<repository>`. */
  readonly namespace: string;
  /** One repository per name. */
  readonly repositories: readonly string[];
}

export class LabRegistry extends Construct {
  readonly repositories = new Map<string, EcrRepository>();

  constructor(scope: Construct, id: string, props: LabRegistryProps) {
    super(scope, id);
    if (props.repositories.length === 0) throw new Error(`${this.node.path}: repositories must not be empty`);
    for (const name of props.repositories) {
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`${this.node.path}: repository name '${name}' is not valid for ECR`);
      if (this.repositories.has(name)) throw new Error(`${this.node.path}: repository '${name}' is listed twice`);
      this.repositories.set(
        name,
        new EcrRepository(this, name, {
          name: `${props.namespace}/${name}`,
          forceDelete: true,
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: [{ encryptionType: 'AES256' }],
        }),
      );
    }
  }

  /** Repository name -> URL, for outputs. */
  urls(): Record<string, string> {
    return Object.fromEntries([...this.repositories].map(([name, repo]) => [name, repo.repositoryUrl]));
  }
}
