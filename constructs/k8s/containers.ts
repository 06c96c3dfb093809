// Secure defaults every labforge container gets (cdk8s-plus), so each workload states only what
// differs: its image, command, ports, probes and the few writable paths it needs.
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
import { Construct } from 'constructs';
import { quantity, type ResourceFigures } from '../model/kubernetes.js';

/** The unprivileged user an image's program runs as (its numeric id, so runAsNonRoot can check it). */
export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
}

/** Resource figures from the plan as cdk8s-plus resources. */
export function resources(figures: ResourceFigures): kplus.ContainerResources {
  const cpu = (value: string) => kplus.Cpu.millis(quantity(value, 'cpu'));
  const memory = (value: string) => Size.mebibytes(quantity(value, 'memory'));
  return {
    cpu: { request: cpu(figures.requests.cpu), limit: cpu(figures.limits.cpu) },
    memory: { request: memory(figures.requests.memory), limit: memory(figures.limits.memory) },
  };
}

/**
 * Non-root, no privilege escalation, every capability dropped, the runtime's seccomp profile,
 * and a read-only root filesystem unless `writableRoot` says why the image cannot live with one.
 */
export function securityContext(user: ImageUser, writableRoot?: string): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: user.uid,
    group: user.gid,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: writableRoot === undefined,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** Pod-level defaults: non-root, volumes owned by the program's group, no API token mounted. */
export function podSecurity(user: ImageUser): Pick<kplus.DeploymentProps, 'securityContext' | 'automountServiceAccountToken'> {
  return {
    securityContext: { ensureNonRoot: true, user: user.uid, group: user.gid, fsGroup: user.gid },
    // The programs never call the Kubernetes API.
    automountServiceAccountToken: false,
  };
}

/** A scratch volume's size: data directories get room, the rest (tmp, sockets, logs) little. */
const scratchMiB = (name: string) => (name === 'data' ? 1024 : 64);

/** Mounts an emptyDir at each writable path the program needs (the root filesystem is read-only). */
export function mountScratch(scope: Construct, container: kplus.Container, paths: Readonly<Record<string, string>>): void {
  for (const [name, path] of Object.entries(paths)) {
    const volume = kplus.Volume.fromEmptyDir(scope, `${container.name}-${name}`, name, { sizeLimit: Size.mebibytes(scratchMiB(name)) });
    container.mount(path, volume);
  }
}

/**
 * The pod-spec volumes of mountScratch's mounts, as JSON. cdk8s-plus-31 2.6.43 (the last of its
 * line) drops every volume of a StatefulSet that has no volumeClaimTemplates (cdk8s-plus issue
 * 6735), so StatefulSets add these back with a JSON patch.
 */
export function scratchVolumes(paths: Readonly<Record<string, string>>): { name: string; emptyDir: { sizeLimit: string } }[] {
  return Object.keys(paths).map((name) => ({ name, emptyDir: { sizeLimit: `${scratchMiB(name)}Mi` } }));
}
