// Small HTTP helpers: an error type that carries a status, a JSON body reader, a JSON writer.
import { randomUUID } from 'node:crypto';

export const BODY_LIMIT = 1024 * 1024; // 1 MB

/** An error the client should see: `status` and `message` become the response. */
export class HttpError extends Error {
  name = 'HttpError';
  /**
   * @param {number} status
   * @param {string} message
   * @param {Record<string, string>} [headers]
   */
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * Read the request body as a JSON object (400 when it is not one, 413 above `limit` bytes).
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<Record<string, unknown>>}
 */
export function readJson(req, limit = BODY_LIMIT) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      reject(new HttpError(413, `request body larger than ${limit} bytes`));
      return;
    }
    const chunks = [];
    let size = 0;
    // Keep draining past the limit (without storing) so the 413 reaches the client.
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return reject(new HttpError(413, `request body larger than ${limit} bytes`));
      let value;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reject(new HttpError(400, 'request body is not valid JSON'));
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return reject(new HttpError(400, 'request body must be a JSON object'));
      }
      resolve(value);
    });
  });
}

/** The caller's X-Request-Id when it looks sane, otherwise a fresh UUID. */
export function requestId(req) {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * Write a JSON response (no body for 204).
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} [body]
 * @param {Record<string, string | number>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (status === 204 || body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
