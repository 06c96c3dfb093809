// Every connection URL labforge prints or hands to a program, built in one place with one
// encoding rule, in the forms the stock clients take verbatim: `psql URL`, `redis-cli -u URL`,
// amqplib and amqp-tools' `--url`, `kcat -b LIST`, `curl URL`.
//
// User names, passwords and database/vhost names are percent-encoded as URI components (RFC 3986
// userinfo and path segments); every client above decodes them. Hosts are written as given, IPv6
// literals in brackets.

/**
 * A part already encoded for a URL, written as is: a Terraform `urlencode(...)` expression, whose
 * value exists only at apply time.
 */
export class Encoded {
  constructor(readonly text: string) {}
}
type Part = string | Encoded;

const encode = (part: Part) => (part instanceof Encoded ? part.text : encodeURIComponent(part));

/** `[::1]` for an IPv6 literal, the name or IPv4 address otherwise. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** `user@` or `user:password@`, percent-encoded; '' without a user. */
function userinfo(user: Part | undefined, password: Part | undefined): string {
  if (user === undefined) return password === undefined ? '' : `:${encode(password)}@`;
  return `${encode(user)}${password === undefined ? '' : `:${encode(password)}`}@`;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface PostgresUrlParts extends Endpoint {
  readonly user: string;
  /** Left out of what is printed for reading; present in what a program is given. */
  readonly password?: Part;
  readonly database: string;
  /** Query parameters, e.g. `{ sslmode: 'require' }`. */
  readonly params?: Readonly<Record<string, string>>;
}

/** `postgres://user[:password]@host:port/database[?k=v]`: what psql and every libpq client take. */
export function postgresUrl(p: PostgresUrlParts): string {
  // encodeURIComponent, not URLSearchParams: libpq does not read `+` as a space.
  const query = Object.entries(p.params ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `postgres://${userinfo(p.user, p.password)}${hostPort(p.host, p.port)}/${encodeURIComponent(p.database)}${query === '' ? '' : `?${query}`}`;
}

export interface RedisUrlParts extends Endpoint {
  /** Redis 6+ ACL user; a `requirepass` server's user is `default`. @default 'default' */
  readonly user?: string;
  readonly password?: Part;
  /** TLS (`rediss://`), as ElastiCache with in-transit encryption needs. @default false */
  readonly tls?: boolean;
}

/**
 * `redis://default:password@host:port`. The user is always written: redis-cli 7.0 answers
 * WRONGPASS to `redis://:password@...` (it sends AUTH with an empty user name).
 */
export function redisUrl(p: RedisUrlParts): string {
  const user = p.password === undefined ? undefined : (p.user ?? 'default');
  return `${p.tls ? 'rediss' : 'redis'}://${userinfo(user, p.password)}${hostPort(p.host, p.port)}`;
}

export interface AmqpUrlParts extends Endpoint {
  readonly user: string;
  readonly password?: Part;
  /** The vhost, encoded as one path segment (`/` becomes `%2F`). */
  readonly vhost: string;
  /** AMQPS (Amazon MQ listens on 5671 with TLS only). @default false */
  readonly tls?: boolean;
}

/** `amqp://user[:password]@host:port/vhost`: what amqplib and amqp-tools' `--url` take. */
export function amqpUrl(p: AmqpUrlParts): string {
  return `${p.tls ? 'amqps' : 'amqp'}://${userinfo(p.user, p.password)}${hostPort(p.host, p.port)}/${encodeURIComponent(p.vhost)}`;
}

/** `host:port,host:port`: Kafka's bootstrap.servers, as `kcat -b` and every client take it. */
export function kafkaBootstrap(brokers: readonly Endpoint[]): string {
  return brokers.map((b) => hostPort(b.host, b.port)).join(',');
}

export interface HttpUrlParts extends Endpoint {
  /** Starts with `/`. @default '' */
  readonly path?: string;
  /** @default false */
  readonly tls?: boolean;
}

/** `http://host:port[/path]`. */
export function httpUrl(p: HttpUrlParts): string {
  return `${p.tls ? 'https' : 'http'}://${hostPort(p.host, p.port)}${p.path ?? ''}`;
}
