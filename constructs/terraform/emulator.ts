// TEST-ONLY: points a lab's Terraform at an AWS API emulator (moto) instead of AWS. Nothing here
// runs unless LABFORGE_TEST_AWS_EMULATOR is set, and the stacks `synth` writes never contain it:
// it is an override file (`*_override.tf.json`, merged by tofu/terraform over cdk.tf.json) that
// `up` writes next to each stack.
//
//   LABFORGE_TEST_AWS_EMULATOR=http://localhost:5000   every AWS endpoint, fake keys, no retries
//   LABFORGE_TEST_TF_EXCLUDE_TYPES=aws_msk_cluster,... resource types the emulator cannot create:
//                                                      `plan -exclude`s them (OpenTofu >= 1.9);
//                                                      `type[attr]`: only those with attr set,
//                                                      `type[attr~text]`: whose attr contains text
//   LABFORGE_TEST_KUBERNETES=<file.json>               {host, token, ca}, or one per provider
//                                                      alias ({"use1": {...}, "euw1": {...}}):
//                                                      the `<lab>-k8s` stacks' providers go there
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const OVERRIDE_FILE = 'labforge_test_emulator_override.tf.json';

/** The services the lab stacks use: one left out would go to real AWS. */
const SERVICES = ['ec2', 's3', 'iam', 'sts', 'ssm', 'rds', 'elasticache', 'mq', 'kafka', 'eks', 'ecr', 'route53', 'kms', 'secretsmanager'];

export interface KubernetesServer {
  readonly host: string;
  readonly token: string;
  /** PEM of the CA that signed the server's certificate. */
  readonly ca: string;
}

export interface EmulatorSettings {
  readonly endpoint: string;
  readonly excludeTypes: readonly string[];
  /** One server for every kubernetes provider, or one per provider alias. */
  readonly kubernetes?: KubernetesServer | Readonly<Record<string, KubernetesServer>>;
}

function serverFor(kubernetes: EmulatorSettings['kubernetes'], alias: string | undefined): KubernetesServer | undefined {
  if (kubernetes === undefined) return undefined;
  if ('host' in kubernetes && typeof kubernetes.host === 'string') return kubernetes as KubernetesServer;
  const byAlias = kubernetes as Readonly<Record<string, KubernetesServer>>;
  const server = byAlias[alias ?? 'default'];
  if (!server)
    throw new Error(
      `LABFORGE_TEST_KUBERNETES names no server for the kubernetes provider '${alias ?? 'default'}' (it has ${Object.keys(byAlias).join(', ')})`,
    );
  return server;
}

/** The test-only settings, or undefined (the normal case: real AWS). */
export function emulatorSettings(env: NodeJS.ProcessEnv = process.env): EmulatorSettings | undefined {
  const endpoint = env.LABFORGE_TEST_AWS_EMULATOR?.trim();
  if (!endpoint) return undefined;
  const excludeTypes = (env.LABFORGE_TEST_TF_EXCLUDE_TYPES ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const k8sFile = env.LABFORGE_TEST_KUBERNETES?.trim();
  const kubernetes = k8sFile ? (JSON.parse(readFileSync(k8sFile, 'utf8')) as EmulatorSettings['kubernetes']) : undefined;
  return { endpoint, excludeTypes, kubernetes };
}

interface StackJson {
  readonly provider?: Record<string, readonly { alias?: string }[]>;
  readonly output?: Record<string, { value: unknown }>;
  readonly resource?: Record<string, Record<string, unknown>>;
  readonly terraform?: {
    required_providers?: Record<string, { source: string; version: string }>;
    backend?: { s3?: Record<string, unknown> };
  };
  readonly data?: { terraform_remote_state?: Record<string, { backend: string; config: Record<string, unknown> }> };
}

/** What the S3 backend and terraform_remote_state need to keep state in the emulator's S3. */
function s3StateSettings(endpoint: string): Record<string, unknown> {
  return {
    endpoints: { s3: endpoint, sts: endpoint, iam: endpoint },
    use_path_style: true,
    access_key: 'testing',
    secret_key: 'testing',
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
  };
}

/**
 * Writes (or, without settings, removes) the override next to one stack. Provider versions are
 * loosened to "this or newer": the emulator tests build the providers from source at newer
 * commits than the releases the stacks pin for users (kubernetes: 3.x for the pinned 2.38).
 */
export function writeEmulatorOverride(stackDir: string, settings: EmulatorSettings | undefined): void {
  const file = join(stackDir, OVERRIDE_FILE);
  if (settings === undefined) return rmSync(file, { force: true });
  const stack = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
  const endpoint = settings.endpoint;
  const provider: Record<string, unknown[]> = {};
  for (const [name, blocks] of Object.entries(stack.provider ?? {})) {
    if (name === 'aws') {
      provider.aws = blocks.map((b) => ({
        ...(b.alias ? { alias: b.alias } : {}),
        access_key: 'testing',
        secret_key: 'testing',
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_requesting_account_id: true,
        s3_use_path_style: true,
        max_retries: 1,
        endpoints: [Object.fromEntries(SERVICES.map((s) => [s, endpoint]))],
      }));
    } else if (name === 'kubernetes' && settings.kubernetes) {
      provider.kubernetes = blocks.map((b) => {
        const k = serverFor(settings.kubernetes, b.alias)!;
        // The stack's `aws eks get-token` exec is replaced (an override's nested block replaces
        // the original's) by one that prints the test server's token as an ExecCredential.
        const credential = JSON.stringify({
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          kind: 'ExecCredential',
          status: { token: k.token },
        });
        const exec = {
          api_version: 'client.authentication.k8s.io/v1beta1',
          command: process.execPath,
          args: ['-e', `console.log(${JSON.stringify(credential)})`],
        };
        return { ...(b.alias ? { alias: b.alias } : {}), host: k.host, cluster_ca_certificate: k.ca, exec: [exec] };
      });
    }
  }
  const required = Object.fromEntries(
    Object.entries(stack.terraform?.required_providers ?? {}).map(([name, p]) => [name, { source: p.source, version: `>= ${p.version}` }]),
  );
  const output = placeholderOutputs(stack, excludedAddresses(stack, settings));
  // A `--backend s3://` lab keeps its state in the emulator's S3: an override's backend block
  // replaces the original, and a remote state's `config` argument is replaced whole.
  const s3Backend = stack.terraform?.backend?.s3;
  const remoteStates = Object.entries(stack.data?.terraform_remote_state ?? {}).filter(([, r]) => r.backend === 's3');
  const data = {
    terraform_remote_state: Object.fromEntries(
      remoteStates.map(([id, r]) => [id, { config: { ...r.config, ...s3StateSettings(endpoint) } }]),
    ),
  };
  // An empty `provider` or `output` object is not valid configuration: left out when nothing is overridden.
  const override = {
    terraform: { required_providers: required, ...(s3Backend ? { backend: { s3: { ...s3Backend, ...s3StateSettings(endpoint) } } } : {}) },
    ...(Object.keys(provider).length > 0 ? { provider } : {}),
    ...(Object.keys(output).length > 0 ? { output } : {}),
    ...(remoteStates.length > 0 ? { data } : {}),
  };
  writeFileSync(file, `${JSON.stringify(override, null, 2)}\n`);
}

/**
 * `-exclude=<address>` for each resource of an excluded type in the stack; an entry
 * `type[attr]` takes only the resources of that type that set attr (`aws_db_instance[replicate_source_db]`:
 * the read replicas, not the primaries), `type[attr~text]` those whose attr contains text (a
 * reference: `aws_vpc_security_group_ingress_rule[referenced_security_group_id~aws_eks_cluster]`).
 */
export function excludeArgs(stackDir: string, settings: EmulatorSettings | undefined): string[] {
  if (settings === undefined) return [];
  const stack = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
  return excludedAddresses(stack, settings).map((a) => `-exclude=${a}`);
}

function excludedAddresses(stack: StackJson, settings: EmulatorSettings): string[] {
  const rules = settings.excludeTypes.map((entry) => {
    const match = /^([a-z0-9_]+)(?:\[([a-z0-9_]+)(?:~([^\]]+))?\])?$/.exec(entry);
    if (!match)
      throw new Error(
        `LABFORGE_TEST_TF_EXCLUDE_TYPES: bad entry '${entry}' (expected a resource type, type[attribute] or type[attribute~text])`,
      );
    return { type: match[1]!, attribute: match[2], contains: match[3] };
  });
  const excluded = (type: string, body: unknown) =>
    rules.some((r) => {
      if (r.type !== type) return false;
      if (r.attribute === undefined) return true;
      const value = (body as Record<string, unknown>)[r.attribute];
      return value !== undefined && (r.contains === undefined || JSON.stringify(value).includes(r.contains));
    });
  return Object.entries(stack.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName)
      .filter(([, body]) => excluded(type, body))
      .map(([name]) => `${type}.${name}`),
  );
}

/** What an output of an excluded resource reads in the emulator tests: a name that resolves nowhere. */
export const EXCLUDED_VALUE = 'excluded-from-the-emulator-test.invalid';

/**
 * Outputs whose value reads an excluded resource, with each such reference replaced by
 * EXCLUDED_VALUE: the `-k8s` stack reads them from this stack's state, and an output left unset
 * would fail its plan.
 */
function placeholderOutputs(stack: StackJson, excluded: readonly string[]): Record<string, { value: unknown }> {
  if (excluded.length === 0) return {};
  const reads = (expr: string) => excluded.some((a) => expr.includes(`${a}.`));
  // Under -exclude, tofu only updates outputs that depend on a resource it applies: the
  // placeholder reads one (a VPC), or it would stay unset like the output it stands for.
  const anchors = Object.entries(stack.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`));
  const anchor = anchors.find((a) => a.startsWith('aws_vpc.')) ?? anchors.find((a) => !excluded.includes(a));
  const placeholder = anchor ? `\${${anchor}.id == "" ? "" : "${EXCLUDED_VALUE}"}` : EXCLUDED_VALUE;
  const replace = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/\$\{([^{}]*)\}/g, (whole, expr: string) => (reads(expr) ? placeholder : whole));
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  const outputs: Record<string, { value: unknown }> = {};
  for (const [name, o] of Object.entries(stack.output ?? {})) {
    const value = replace(o.value);
    if (JSON.stringify(value) !== JSON.stringify(o.value)) outputs[name] = { value };
    // A literal output (`regions`) depends on nothing: it too must read the anchor to be set.
    else if (anchor && !JSON.stringify(o.value).includes('${'))
      outputs[name] = { value: `\${${anchor}.id == "" ? null : jsondecode(${JSON.stringify(JSON.stringify(o.value))})}` };
  }
  return outputs;
}
