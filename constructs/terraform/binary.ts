// The Terraform CLI the aws target drives: OpenTofu or Terraform, whichever is on PATH (tofu
// first: it is open source and takes the same configuration), or the one LABFORGE_TF_BIN names.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import { findExecutable, runTool, type ToolResult } from '../model/tool.js';

export interface TerraformBinary {
  readonly path: string;
  /** `tofu` or `terraform`, from the binary's name: messages name the tool the user has. */
  readonly flavor: 'tofu' | 'terraform';
}

const INSTALL =
  'install OpenTofu (https://opentofu.org/docs/intro/install/, e.g. `snap install --classic opentofu` or `brew install opentofu`) or Terraform, or set LABFORGE_TF_BIN to its path';

/** Finds the binary; `hint` says what was (not) done, for the error's second half. */
export function findTerraform(hint: string, env: NodeJS.ProcessEnv = process.env): TerraformBinary {
  const chosen = env.LABFORGE_TF_BIN?.trim();
  if (chosen) {
    const path = findExecutable(chosen);
    if (path === undefined)
      throw new ExternalError(`LABFORGE_TF_BIN=${chosen} is not an executable file or a command on PATH`, `${INSTALL}; ${hint}`);
    return { path, flavor: basename(path).includes('tofu') ? 'tofu' : 'terraform' };
  }
  for (const name of ['tofu', 'terraform'] as const) {
    const path = findExecutable(name);
    if (path !== undefined) return { path, flavor: name };
  }
  throw new ExternalError('neither tofu nor terraform is on PATH', `${INSTALL}; ${hint}`);
}

/**
 * The environment of every tofu/terraform command: no prompts, no update checks, and one
 * provider cache shared by every lab (the AWS provider is several hundred MB: one download, not
 * one per lab) unless the user keeps their own.
 */
export function terraformEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const cache =
    env.TF_PLUGIN_CACHE_DIR || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'labforge', 'terraform-plugins');
  mkdirSync(cache, { recursive: true });
  return { ...env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: cache };
}

/** One line of `-json` output (the machine-readable UI of plan, apply and destroy). */
export interface TerraformMessage {
  readonly '@level': 'info' | 'warn' | 'error';
  readonly '@message': string;
  readonly type: string;
  readonly hook?: {
    readonly resource?: { readonly addr: string; readonly resource_type: string };
    readonly action?: string;
    readonly elapsed_seconds?: number;
  };
  readonly changes?: { readonly add: number; readonly change: number; readonly remove: number; readonly operation: string };
  readonly diagnostic?: { readonly severity: string; readonly summary: string; readonly detail?: string; readonly address?: string };
}

export interface JsonRun extends ToolResult {
  /** Error diagnostics, `summary: detail` each, in the order printed. */
  readonly errors: readonly string[];
  readonly messages: readonly TerraformMessage[];
}

/** Runs a command with `-json` output and hands each message to `onMessage`. */
export async function runJson(
  tf: TerraformBinary,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onMessage: (m: TerraformMessage) => void,
): Promise<JsonRun> {
  const messages: TerraformMessage[] = [];
  const errors: string[] = [];
  // -json right after the subcommand: options must precede a positional plan file.
  const result = await runTool(tf.path, [args[0]!, '-json', ...args.slice(1)], {
    cwd,
    env,
    onLine: (line) => {
      if (!line.startsWith('{')) return;
      let m: TerraformMessage;
      try {
        m = JSON.parse(line) as TerraformMessage;
      } catch {
        return;
      }
      messages.push(m);
      if (m.type === 'diagnostic' && m.diagnostic?.severity === 'error')
        errors.push(oneLine(m.diagnostic.summary, m.diagnostic.detail, m.diagnostic.address));
      onMessage(m);
    },
  });
  return { ...result, errors, messages };
}

/** Runs a command whose stdout is one JSON document (`show -json`, `output -json`). */
export async function jsonOf<T>(tf: TerraformBinary, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<T> {
  const r = await runTool(tf.path, args, { cwd, env, capture: true });
  if (r.code !== 0)
    throw new ExternalError(
      `${tf.flavor} ${args.join(' ')} failed in ${cwd} (${r.signal ?? `exit code ${r.code}`})`,
      'see the messages above',
    );
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new ExternalError(`${tf.flavor} ${args.join(' ')} printed no JSON`);
  }
}

function oneLine(summary: string, detail?: string, address?: string): string {
  const text = [
    address,
    summary,
    detail
      ?.split('\n')
      .find((l) => l.trim().length > 0)
      ?.trim(),
  ]
    .filter(Boolean)
    .join(': ');
  return text.length > 400 ? `${text.slice(0, 397)}...` : text;
}
