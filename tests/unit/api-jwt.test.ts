// The starter API's pure security helpers (templates/api/lib): JWT HS256 and scrypt passwords.
// No servers needed; the HTTP behaviour around them is exercised against real services elsewhere.
import { describe, expect, it } from 'vitest';
import { JwtError, signJwt, verifyJwt } from '../../templates/api/lib/jwt.mjs';
import { hashPassword, verifyPassword } from '../../templates/api/lib/password.mjs';

const SECRET = 'test-secret';
const CLAIMS = { sub: '42', email: 'ada@example.com', role: 'user' };

/** Re-encode one part of a token, keeping the others (and so the old signature). */
function withPart(token: string, index: number, value: unknown): string {
  const parts = token.split('.');
  parts[index] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return parts.join('.');
}

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'));
}

describe('signJwt / verifyJwt', () => {
  it('round-trips the claims and adds iat and a 1 h exp', () => {
    const now = Date.UTC(2030, 0, 1);
    const token = signJwt(CLAIMS, SECRET, { now });
    expect(decodePart(token, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = verifyJwt(token, SECRET, { now: now + 1000 });
    expect(claims).toMatchObject(CLAIMS);
    expect(claims.iat).toBe(now / 1000);
    expect(claims.exp).toBe(now / 1000 + 3600);
  });

  it('rejects a tampered payload', () => {
    const token = signJwt(CLAIMS, SECRET);
    const forged = withPart(token, 1, { ...decodePart(token, 1), role: 'admin' });
    expect(() => verifyJwt(forged, SECRET)).toThrow(/signature/);
  });

  it('rejects a token signed with another secret', () => {
    const token = signJwt(CLAIMS, 'another-secret');
    expect(() => verifyJwt(token, SECRET)).toThrow(JwtError);
  });

  it('rejects an expired token, at exp exactly and after', () => {
    const now = Date.UTC(2030, 0, 1);
    const token = signJwt(CLAIMS, SECRET, { now, expiresInSeconds: 60 });
    expect(() => verifyJwt(token, SECRET, { now: now + 59_000 })).not.toThrow();
    expect(() => verifyJwt(token, SECRET, { now: now + 60_000 })).toThrow(/expired/);
    expect(() => verifyJwt(token, SECRET, { now: now + 3_600_000 })).toThrow(/expired/);
  });

  it.each([
    ['empty', ''],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['not base64url', 'a+b.c/d.e=f'],
    ['not JSON', 'bm90.anNvbg.c2ln'],
    ['not a string', 42],
  ])('rejects a malformed token (%s)', (_name, token) => {
    expect(() => verifyJwt(token as string, SECRET)).toThrow(JwtError);
  });

  it('rejects "alg": "none" and other algorithms even with a valid signature for them', () => {
    const token = signJwt(CLAIMS, SECRET);
    const none = withPart(token, 0, { alg: 'none', typ: 'JWT' }).split('.').slice(0, 2).join('.') + '.';
    expect(() => verifyJwt(none, SECRET)).toThrow(JwtError);
    expect(() => verifyJwt(withPart(token, 0, { alg: 'HS512', typ: 'JWT' }), SECRET)).toThrow(/algorithm/);
  });

  it('refuses an empty secret when signing or verifying', () => {
    expect(() => signJwt(CLAIMS, '')).toThrow(TypeError);
    expect(() => verifyJwt(signJwt(CLAIMS, SECRET), '')).toThrow(TypeError);
  });
});

describe('hashPassword / verifyPassword', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(stored).not.toContain('correct horse');
    await expect(verifyPassword('correct horse', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horsf', stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  it('salts each hash, so the same password hashes differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same password', b)).resolves.toBe(true);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$2b$10$abc'],
    ['missing hash', 'scrypt$16384$8$1$c2FsdA$'],
    ['bad parameters', 'scrypt$3$8$1$c2FsdA$aGFzaA'],
  ])('returns false for a malformed stored value (%s)', async (_name, stored) => {
    await expect(verifyPassword('whatever', stored)).resolves.toBe(false);
  });
});
