// `--allow-cidr auto`: the user's public IPv4 address as AWS sees it, from AWS's own echo service
// (LABFORGE_CHECKIP_URL names another, e.g. behind a proxy), as a /32.
import { ExternalError } from '../model/errors.js';
import { parseCidr } from '../model/options.js';

const CHECKIP = 'https://checkip.amazonaws.com/';

/** `auto` asks the echo service; anything else must be a CIDR; undefined opens nothing. */
export async function resolveAllowCidr(value: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (value === undefined || value !== 'auto') return value === undefined ? undefined : parseCidr(value);
  const url = env.LABFORGE_CHECKIP_URL?.trim() || CHECKIP;
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = (await response.text()).trim();
  } catch (error) {
    throw new ExternalError(
      `--allow-cidr auto: cannot find your public address (${url}: ${(error as Error).message})`,
      'pass --allow-cidr <your-address>/32 instead; nothing was created',
      { cause: error },
    );
  }
  const octets = /^\d{1,3}(\.\d{1,3}){3}$/.test(text) ? text.split('.').map(Number) : [];
  if (octets.length !== 4 || octets.some((o) => o > 255))
    throw new ExternalError(
      `--allow-cidr auto: ${url} answered '${text.slice(0, 60)}', not an IPv4 address`,
      'pass --allow-cidr <your-address>/32 instead; nothing was created',
    );
  return parseCidr(`${text}/32`);
}
