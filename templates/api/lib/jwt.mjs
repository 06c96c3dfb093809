// JSON Web Tokens, HS256 only, with nothing but node:crypto.
// A token is base64url(header) . base64url(payload) . base64url(HMAC-SHA256(first two parts)).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Thrown by verifyJwt; `message` says why the token was refused. */
export class JwtError extends Error {
  name = 'JwtError';
}

const HEADER = encode({ alg: 'HS256', typ: 'JWT' });
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Sign `claims` (e.g. { sub, email, role }) and add iat and exp.
 * @param {Record<string, unknown>} claims
 * @param {string} secret
 * @param {{ expiresInSeconds?: number, now?: number }} [options] now is in milliseconds
 * @returns {string}
 */
export function signJwt(claims, secret, { expiresInSeconds = 3600, now = Date.now() } = {}) {
  requireSecret(secret);
  const iat = Math.floor(now / 1000);
  const payload = encode({ ...claims, iat, exp: iat + expiresInSeconds });
  return `${HEADER}.${payload}.${sign(`${HEADER}.${payload}`, secret)}`;
}

/**
 * Check the signature and expiry of `token`; return its claims or throw JwtError.
 * @param {string} token
 * @param {string} secret
 * @param {{ now?: number }} [options] now is in milliseconds
 * @returns {Record<string, unknown> & { iat: number, exp: number }}
 */
export function verifyJwt(token, secret, { now = Date.now() } = {}) {
  requireSecret(secret);
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    throw new JwtError('malformed token');
  }
  const [header, payload, signature] = /** @type {[string, string, string]} */ (parts);

  // Never trust the header to choose the algorithm ("alg": "none" attacks): we only accept HS256.
  if (decode(header)?.alg !== 'HS256') throw new JwtError('unsupported token algorithm');

  const expected = Buffer.from(sign(`${header}.${payload}`, secret));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('invalid token signature');
  }

  const claims = decode(payload);
  if (!claims || typeof claims.exp !== 'number') throw new JwtError('malformed token claims');
  if (Math.floor(now / 1000) >= claims.exp) throw new JwtError('token expired');
  return claims;
}

function sign(data, secret) {
  return createHmac('sha256', secret).update(data).digest('base64url');
}

function encode(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decode a base64url JSON object, or return null when it is not one. */
function decode(part) {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function requireSecret(secret) {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('JWT secret must be a non-empty string');
  }
}
