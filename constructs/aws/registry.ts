// ECR repositories: immutable tags, scan on push, encrypted, deletable with their images.
import { Construct } from 'constructs';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { checkRegistry } from '../model/aws-plan-checks.js';

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
    checkRegistry(this.node.path, props.repositories);
    for (const name of props.repositories) {
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
