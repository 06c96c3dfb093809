// Running the external CLIs the cloud targets drive (pulumi, tofu/terraform, npm): found on PATH,
// run with their output as progress on stderr or captured, and interrupted the way they expect.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ExternalError } from './errors.js';

/** The first executable `name` in `dirs` (PATH by default); undefined when there is none. */
export function findExecutable(name: string, dirs: readonly string[] = pathDirs()): string | undefined {
  if (isAbsolute(name) || name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function pathDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ToolRunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Capture stdout (JSON answers) instead of streaming it to stderr as progress. */
  readonly capture?: boolean;
  /** Called with each complete stdout line instead of streaming it (implies capture). */
  readonly onLine?: (line: string) => void;
}

export interface ToolResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** Runs one command; its output is progress (stderr) unless captured. Never throws on a non-zero exit. */
export function runTool(command: string, args: readonly string[], options: ToolRunOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const capture = options.capture || options.onLine !== undefined;
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', capture ? 'pipe' : 2, 2] });
    let stdout = '';
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!options.onLine) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) options.onLine(line);
    });
    // SIGINT from a terminal reaches the tool with us (one process group) and it cancels by
    // itself; a SIGTERM or SIGHUP sent to labforge alone is passed on as the SIGINT it cancels on.
    const forward = () => child.kill('SIGINT');
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = () => {
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
    };
    child.once('error', (error) => {
      done();
      reject(new ExternalError(`cannot run ${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      done();
      if (partial.length > 0) options.onLine?.(partial);
      resolve({ code, signal, stdout });
    });
  });
}

/** True while the process `pid` exists (also when it belongs to another user). */
export function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
