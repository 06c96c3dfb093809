// A lab's generated credentials as `label: value` lines: what `labforge secrets` prints and a
// workshop handout lists, the same on every target that generates them (local, k8s).

/** The generated credentials of a lab, by store (the shape of its secrets file). */
export interface GeneratedCredentials {
  readonly postgres: { readonly user: string; readonly password: string };
  readonly redis?: { readonly password: string };
  readonly rabbitmq?: { readonly user: string; readonly password: string; readonly vhost: string };
  readonly api?: { readonly jwtSecret: string };
}

/**
 * The lines, then one `<component> url` line per connection URL. A handout (`forSheet`) leaves
 * out the API's signing key, which only the lab's own programs use, and the vhost note.
 */
export function credentialLines(c: GeneratedCredentials, urls: Readonly<Record<string, string>>, forSheet = false): [string, string][] {
  const lines: [string, string][] = [
    ['postgres user', c.postgres.user],
    ['postgres password', c.postgres.password],
  ];
  if (c.redis) lines.push(['redis password', c.redis.password]);
  if (c.rabbitmq)
    lines.push(
      ['rabbitmq user', forSheet ? c.rabbitmq.user : `${c.rabbitmq.user} (vhost ${c.rabbitmq.vhost})`],
      ['rabbitmq password', c.rabbitmq.password],
    );
  if (c.api && !forSheet) lines.push(['api JWT secret', c.api.jwtSecret]);
  for (const [id, url] of Object.entries(urls)) lines.push([`${id} url`, url]);
  return lines;
}
