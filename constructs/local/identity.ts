// Who the servers run as. PostgreSQL refuses to run as root, and a lab should not run its servers
// with more rights than they need: as root, labforge starts them as the unprivileged system user
// `labforge` (created once); as a normal user, as that user.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { ExternalError } from '../model/errors.js';
import type { RunAs } from './home.js';

export const SERVICE_USER = 'labforge';

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  // getent also sees users from NSS sources other than /etc/passwd.
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
  }
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function createServiceUser(): void {
  // useradd takes a lock on /etc/passwd: retry briefly when another labforge creates it at once.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return;
    } catch (error) {
      if (lookupUser(SERVICE_USER)) return; // exit 9: created meanwhile by someone else
      if (attempt === 4) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
        throw new ExternalError(
          `could not create the system user '${SERVICE_USER}' that runs the lab's servers: ${stderr || (error as Error).message}`,
          `create it yourself: useradd --system --no-create-home --shell /usr/sbin/nologin ${SERVICE_USER}`,
          { cause: error },
        );
      }
      execFileSync('sleep', ['0.2']);
    }
  }
}

/** The identity the lab's servers will run as, creating the service user when root needs it. */
export function resolveRunAs(): RunAs {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const info = userInfo();
    return { user: info.username, uid, gid: process.getgid?.() ?? info.gid, mode: 'current-user' };
  }
  let found = lookupUser(SERVICE_USER);
  if (!found) {
    createServiceUser();
    found = lookupUser(SERVICE_USER);
    if (!found) throw new ExternalError(`system user '${SERVICE_USER}' not found after creating it`);
  }
  if (found.uid === 0) throw new ExternalError(`user '${SERVICE_USER}' has uid 0; it must be an unprivileged user`);
  return { user: SERVICE_USER, uid: found.uid, gid: found.gid, mode: 'service-user' };
}

/**
 * When the servers run as another user, every directory above the labforge home must let that
 * user pass (x bit). Checked before anything is created, so a home under /root (0700) fails
 * cleanly. The home itself is labforge's own: `allowTraversal` opens it (o+x, not o+r).
 */
export function assertReachable(home: string, runAs: RunAs): void {
  if (runAs.mode === 'current-user') return;
  let dir = dirname(home);
  const blocked: string[] = [];
  for (;;) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      st = undefined; // not created yet: labforge creates it with mode 0755
    }
    if (st) {
      const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) blocked.push(dir);
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (blocked.length > 0) {
    const first = blocked[blocked.length - 1]!;
    throw new ExternalError(
      `the servers run as user '${runAs.user}', which cannot enter ${first} (mode ${(statSync(first).mode & 0o777).toString(8)}), a parent of ${home}`,
      `set LABFORGE_HOME to a directory it can reach (e.g. under /var/tmp), or allow it: chmod o+x ${first}`,
    );
  }
}

/** Lets the service user pass through the labforge home (e.g. one made by mkdtemp, mode 0700). */
export function allowTraversal(home: string, runAs: RunAs): void {
  if (runAs.mode === 'current-user') return;
  const st = statSync(home);
  if (st.uid !== runAs.uid && (st.mode & 0o001) === 0) chmodSync(home, (st.mode & 0o7777) | 0o001);
}
