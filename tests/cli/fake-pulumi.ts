// A FAKE pulumi CLI and npm for tests of the pulumi target (the real pulumi CLI is not installed
// here and AWS is out of reach): shell scripts put first on PATH that log each call and keep a
// stand-in stack in the lab's file backend.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The fake pulumi: `stack select --create` makes the stack (a file in the backend directory), `up`
// adds resources (or hangs when FAKE_PULUMI_HANG is set, writing its pid), `destroy` removes them
// (unless FAKE_DESTROY_LEAVES is set),
// `stack export` lists what is left, `stack rm` removes the stack.
export const FAKE_PULUMI = `#!/bin/bash
set -u
echo "pulumi $* | backend=$PULUMI_BACKEND_URL | passphrase=\${PULUMI_CONFIG_PASSPHRASE:+set}" >> "$FAKE_LOG"
backend="\${PULUMI_BACKEND_URL#file://}"
stack=""; prev=""
for a in "$@"; do [ "$prev" = "--stack" ] && stack="$a"; prev="$a"; done
case "$1 \${2:-}" in
  "stack select") mkdir -p "$backend/stacks"; touch "$backend/stacks/$4" ;;
  "stack ls")
    names=""
    for f in "$backend"/stacks/*; do
      case "$f" in *.resources|*'*') ;; *) names="$names\${names:+, }{\\"name\\": \\"$(basename "$f")\\"}" ;; esac
    done
    echo "[$names]" ;;
  "up --yes")
    echo "Updating (fake) stack $stack"
    if [ -n "\${FAKE_PULUMI_HANG:-}" ]; then
      # Background commands of a script ignore SIGINT: the trap stops the sleep itself.
      sleep 30 </dev/null >/dev/null 2>&1 &
      child=$!
      trap 'kill $child; echo "fake pulumi: cancelled" >&2; exit 255' INT
      echo "$$ $child" > "$FAKE_PID"
      wait $child
      exit 0
    fi
    echo "urn:pulumi:$stack::labforge-$stack::aws:ec2/vpc:Vpc::vpc" > "$backend/stacks/$stack.resources" ;;
  "stack output")
    if [ "$*" != "\${*/--show-secrets/}" ]; then pw="fake-db-password"; else pw="[secret]"; fi
    echo "{\\"server_public_ip\\": \\"203.0.113.10\\", \\"postgres_url\\": \\"postgres://learner@203.0.113.10:5432/lab\\", \\"postgres_password\\": \\"$pw\\"}" ;;
  "destroy --yes") [ -z "\${FAKE_DESTROY_LEAVES:-}" ] && rm -f "$backend/stacks/$stack.resources"; echo "Destroying (fake)" ;;
  "stack export")
    res=""; [ -f "$backend/stacks/$stack.resources" ] && res="{\\"urn\\": \\"$(cat "$backend/stacks/$stack.resources")\\", \\"type\\": \\"aws:ec2/vpc:Vpc\\"}"
    echo "{\\"version\\": 3, \\"deployment\\": {\\"manifest\\": {}, \\"resources\\": [$res]}}" ;;
  "stack rm") rm -f "$backend/stacks/$stack" ;;
  *) echo "fake pulumi: unexpected: $*" >&2; exit 3 ;;
esac
`;
export const FAKE_NPM = `#!/bin/bash
echo "npm $* | cwd=$(basename "$(dirname "$PWD")")/$(basename "$PWD")" >> "$FAKE_LOG"
`;

export interface Sandbox {
  readonly home: string;
  readonly log: string;
  readonly pidFile: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A directory with its own bin (the fakes, or nothing), labforge home and call log. */
export function sandbox(parent: string, name: string, withPulumi: boolean): Sandbox {
  const root = join(parent, name);
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  if (withPulumi) {
    writeFileSync(join(bin, 'pulumi'), FAKE_PULUMI, { mode: 0o755 });
    writeFileSync(join(bin, 'npm'), FAKE_NPM, { mode: 0o755 });
  }
  const log = join(root, 'calls.log');
  const pidFile = join(root, 'pulumi.pid');
  const env = {
    // Only the sandbox's bin (and the system's tools the fake needs); no user pulumi anywhere.
    PATH: withPulumi ? `${bin}:/usr/bin:/bin` : bin,
    HOME: root,
    PULUMI_HOME: '',
    PULUMI_BACKEND_URL: '',
    LABFORGE_HOME: join(root, 'home'),
    LABFORGE_NPM: withPulumi ? join(bin, 'npm') : '',
    FAKE_LOG: log,
    FAKE_PID: pidFile,
  };
  return { home: join(root, 'home'), log, pidFile, env };
}
