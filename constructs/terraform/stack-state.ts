// Reading a lab's Terraform state, wherever its backend keeps it: the file beside each stack, or
// the stack's object in the user's S3 bucket (read with the SDK: no tofu, no init, one request).
// `status`, `secrets`, `health` and `down` all decide from it what the lab holds.
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendRegion, describeBackend, stateKey, type S3StateBackend } from '../model/backend.js';
import { ExternalError } from '../model/errors.js';
import { AwsClients, errorMessage, errorName } from '../aws-sdk/clients.js';
import { emulatorSettings } from './emulator.js';
import { awsLabLayout, type AwsLabState } from './state.js';

/** What stands for a state that cannot be parsed (being written, or damaged): destroy will tell. */
export const UNREADABLE_STATE = '(unreadable terraform.tfstate)';

interface TfState {
  readonly resources?: readonly { mode: string; type: string; name: string; instances?: unknown[] }[];
  readonly outputs?: Readonly<Record<string, { value: unknown; sensitive?: boolean }>>;
}

/**
 * `type.name` of every managed resource with an instance in a state document; none without one;
 * a document that cannot be parsed counts as holding something, so `down` still runs destroy.
 */
export function addressesIn(text: string | undefined): string[] {
  if (text === undefined) return [];
  const state = parse(text);
  if (state === undefined) return [UNREADABLE_STATE];
  return (state.resources ?? []).filter((r) => r.mode === 'managed' && (r.instances?.length ?? 1) > 0).map((r) => `${r.type}.${r.name}`);
}

function parse(text: string): TfState | undefined {
  try {
    return JSON.parse(text) as TfState;
  } catch {
    return undefined;
  }
}

/** The state of one lab's stacks, local or in S3. */
export class LabStates {
  private clients?: AwsClients;

  constructor(
    private readonly home: string,
    private readonly lab: Pick<AwsLabState, 'name' | 'regions' | 'stacks' | 'backend'>,
  ) {}

  /** Where the state lives, for messages. */
  get where(): string {
    return describeBackend(this.lab.backend, this.lab.name);
  }

  /** The stack's state document; undefined when it has none yet. */
  async text(stack: string): Promise<string | undefined> {
    const b = this.lab.backend;
    if (b === undefined) {
      const file = join(awsLabLayout(this.home, this.lab.name).stackDir(stack), 'terraform.tfstate');
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    }
    try {
      const r = await this.s3(b).send(new GetObjectCommand({ Bucket: b.bucket, Key: stateKey(b, this.lab.name, stack) }));
      return await r.Body!.transformToString();
    } catch (error) {
      // Only the object missing means "no state yet": a missing bucket must not read as an empty lab.
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw new ExternalError(
        `cannot read the Terraform state of stack ${stack} from s3://${b.bucket}/${stateKey(b, this.lab.name, stack)}: ${errorMessage(error)}`,
        'check the credentials and the bucket, then run the command again',
        { cause: error },
      );
    }
  }

  async addresses(stack: string): Promise<string[]> {
    return addressesIn(await this.text(stack));
  }

  /** Every stack's outputs merged (later stacks win), and the names of the sensitive ones. */
  async outputs(): Promise<{ values: Record<string, unknown>; secret: string[] }> {
    const { values, secret } = await this.contents();
    return { values, secret };
  }

  /** What the lab's stacks hold, each state read once: resources in all, and the outputs. */
  async contents(): Promise<{ resources: number; values: Record<string, unknown>; secret: string[] }> {
    let resources = 0;
    const values: Record<string, unknown> = {};
    const secret: string[] = [];
    for (const stack of this.lab.stacks) {
      const text = await this.text(stack);
      resources += addressesIn(text).length;
      for (const [k, o] of Object.entries((text && parse(text)?.outputs) || {})) {
        values[k] = o.value;
        if (o.sensitive && !secret.includes(k)) secret.push(k);
      }
    }
    return { resources, values, secret };
  }

  /**
   * An S3 backend's state objects (and lock files) once their stacks hold nothing: the bucket
   * keeps nothing of a removed lab. Returns what could not be deleted.
   */
  async removeRemote(): Promise<string[]> {
    const b = this.lab.backend;
    if (b === undefined) return [];
    const failed: string[] = [];
    for (const stack of this.lab.stacks) {
      for (const key of [stateKey(b, this.lab.name, stack), `${stateKey(b, this.lab.name, stack)}.tflock`]) {
        try {
          await this.s3(b).send(new DeleteObjectCommand({ Bucket: b.bucket, Key: key }));
        } catch (error) {
          failed.push(`s3://${b.bucket}/${key} (${errorMessage(error)})`);
        }
      }
    }
    return failed;
  }

  close(): void {
    this.clients?.destroy();
  }

  private s3(b: S3StateBackend) {
    this.clients ??= new AwsClients({ endpoint: process.env.AWS_ENDPOINT_URL || emulatorSettings()?.endpoint });
    return this.clients.s3(backendRegion(b, this.lab.regions));
  }
}
