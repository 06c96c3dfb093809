// What a service needs from the lab when it runs in Kubernetes: the secret keys (connection URLs
// with passwords) it reads. Shared by the engines that create the Secret (cdktf cluster objects)
// and reference it (cdk8s workloads), so the two always agree on key names.
import type { LabSpec, ServiceComponent } from './types.js';

/** Keys of the lab Secret, named like the environment variables the programs read. */
export type SecretKey = 'DATABASE_URL' | 'SHARDS' | 'REDIS_URL' | 'AMQP_URL' | 'JWT_SECRET';

/** The Secret keys `service` reads, from what it `uses` (and the API's token key). */
export function secretKeysOf(lab: LabSpec, service: ServiceComponent): SecretKey[] {
  const keys: SecretKey[] = [];
  for (const id of service.uses) {
    const used = lab.components.find((c) => c.id === id);
    if (used?.kind === 'postgres') keys.push(used.shards > 1 ? 'SHARDS' : 'DATABASE_URL');
    else if (used?.kind === 'redis') keys.push('REDIS_URL');
    else if (used?.kind === 'rabbitmq') keys.push('AMQP_URL');
  }
  if (service.program === 'api') keys.push('JWT_SECRET');
  return keys;
}

/** Every key of the lab Secret: the union over its services. */
export function labSecretKeys(lab: LabSpec): SecretKey[] {
  const services = lab.components.filter((c): c is ServiceComponent => c.kind === 'service');
  return [...new Set(services.flatMap((s) => secretKeysOf(lab, s)))].sort();
}
