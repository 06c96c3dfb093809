// Turns "Authorization: Bearer <jwt>" into the caller's identity, or a 401.
import { HttpError } from './http.mjs';
import { verifyJwt } from './jwt.mjs';

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {string} secret
 * @returns {{ id: number, email: string, role: string }}
 */
export function authenticate(req, secret) {
  const challenge = { 'WWW-Authenticate': 'Bearer' };
  const match = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
  if (!match) throw new HttpError(401, 'missing or malformed Authorization: Bearer header', challenge);
  try {
    const claims = verifyJwt(/** @type {string} */ (match[1]), secret);
    return { id: Number(claims.sub), email: String(claims.email), role: String(claims.role) };
  } catch (err) {
    throw new HttpError(401, err.message, challenge);
  }
}
