#!/usr/bin/env node
// Entry point: the CLI is compiled to dist/ by `npm install` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/labforge.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('labforge: not built yet; run `npm install` (or `npm run build`) in the labforge folder\n');
  process.exit(1);
}
// The AWS SDK releases labforge pins warn on every run under Node 20 that later ones need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await import(entry.href);
