// A generated password (random.RandomPassword, a secret in the state), optionally kept in an SSM
// SecureString parameter so a VM can read it at boot instead of receiving it in user data.
import * as pulumi from '@pulumi/pulumi';
import { Parameter } from '@pulumi/aws/ssm/parameter.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import { checkSecret } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export interface GeneratedSecretArgs {
  /** SSM parameter name to store the value under. @default not stored in SSM */
  readonly parameterName?: string;
  /** What the secret is for (parameter description). */
  readonly description: string;
}

export class GeneratedSecret extends pulumi.ComponentResource {
  readonly value: pulumi.Output<string>;
  readonly parameter?: Parameter;

  constructor(name: string, args: GeneratedSecretArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('GeneratedSecret'), name, {}, opts);
    const length = 32;
    checkSecret(name, { length, parameterName: args.parameterName });
    // Letters and digits only: RDS, Amazon MQ and ElastiCache each forbid a different set of specials.
    const password = new RandomPassword(
      `${name}-password`,
      { length, special: false, minNumeric: 2, minUpper: 2, minLower: 2 },
      { parent: this },
    );
    this.value = pulumi.secret(password.result);
    if (args.parameterName !== undefined) {
      this.parameter = new Parameter(
        `${name}-parameter`,
        { name: args.parameterName, type: 'SecureString', value: this.value, description: args.description },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
