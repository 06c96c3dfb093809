import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The labforge package root (where package.json and templates/ live). Found by walking up,
 * because this file runs both from source (tsx, vitest) and from dist/ (the built CLI).
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('labforge package root not found');
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

export function templatePath(...parts: string[]): string {
  return join(packageRoot(), 'templates', ...parts);
}
