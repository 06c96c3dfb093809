// A generated password: random_password, optionally kept in an SSM SecureString parameter so a
// VM can read it at boot instead of receiving it in user data.
import { Construct } from 'constructs';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import { checkSecret } from '../model/aws-plan-checks.js';

export interface GeneratedSecretProps {
  /** Characters; letters and digits only, which every AWS service accepts. @default 32 */
  readonly length?: number;
  /** SSM parameter name to store the value under. @default not stored in SSM */
  readonly parameterName?: string;
  /** What the secret is for (parameter description). @default 'labforge generated password' */
  readonly description?: string;
}

export class GeneratedSecret extends Construct {
  readonly password: Password;
  readonly parameter?: SsmParameter;

  constructor(scope: Construct, id: string, props: GeneratedSecretProps = {}) {
    super(scope, id);
    const length = props.length ?? 32;
    checkSecret(this.node.path, { length, parameterName: props.parameterName });
    // No special characters: RDS, Amazon MQ and ElastiCache each forbid a different subset.
    this.password = new Password(this, 'password', { length, special: false, minNumeric: 2, minUpper: 2, minLower: 2 });
    if (props.parameterName !== undefined) {
      this.parameter = new SsmParameter(this, 'parameter', {
        name: props.parameterName,
        type: 'SecureString',
        value: this.password.result,
        description: props.description ?? 'labforge generated password',
      });
    }
  }

  /** The secret (a Terraform reference; sensitive in state and plan). */
  get value(): string {
    return this.password.result;
  }
}
