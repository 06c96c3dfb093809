import { describe, expect, it } from 'vitest';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseCidr, parseLabName, parseLevel, parseOwner, parseRegions, parseTarget, parseTtl } from '../../constructs/model/options.js';
import { getLab } from '../../labs/index.js';

describe('option parsing', () => {
  it('accepts each level and names the valid ones for a bad level', () => {
    expect(parseLevel('expert')).toBe('expert');
    expect(() => parseLevel('guru')).toThrowError(new UsageError("unknown level 'guru' (valid: beginner, intermediate, advanced, expert)"));
  });

  it('restricts targets to the allowed list', () => {
    expect(parseTarget('aws', ['aws'])).toBe('aws');
    expect(() => parseTarget('pulumi', ['aws'])).toThrow("unknown target 'pulumi' (valid: aws)");
  });

  it('parses TTLs in minutes, hours and days and refuses the rest', () => {
    expect(parseTtl('90m')).toBe(90 * 60_000);
    expect(parseTtl('4h')).toBe(4 * 3_600_000);
    expect(parseTtl('2d')).toBe(2 * 86_400_000);
    expect(() => parseTtl('4 hours')).toThrow("bad --ttl '4 hours'");
    expect(() => parseTtl('0h')).toThrow('longer than zero');
    expect(() => parseTtl('8d')).toThrow('7d maximum');
  });

  it('refuses malformed and world-open CIDRs', () => {
    expect(parseCidr('203.0.113.7/32')).toBe('203.0.113.7/32');
    expect(() => parseCidr('203.0.113.7')).toThrow("bad --allow-cidr '203.0.113.7'");
    expect(() => parseCidr('300.0.0.1/32')).toThrow('bad --allow-cidr');
    expect(() => parseCidr('0.0.0.0/0')).toThrow('too wide');
  });

  it('validates regions against the known list, without duplicates, with a minimum', () => {
    expect(parseRegions('us-east-1, eu-west-1', 2)).toEqual(['us-east-1', 'eu-west-1']);
    expect(() => parseRegions('us-east-1,mars-1')).toThrow("unknown region 'mars-1' (valid: us-east-1");
    expect(() => parseRegions('us-east-1,us-east-1')).toThrow('lists a region twice');
    expect(() => parseRegions('us-east-1', 2)).toThrow('needs at least 2');
  });

  it('validates owners and lab names', () => {
    expect(parseOwner('ada.lovelace@example')).toBe('ada.lovelace@example');
    expect(() => parseOwner('ada lovelace')).toThrow("bad --owner 'ada lovelace'");
    expect(parseLabName('w-p01')).toBe('w-p01');
    for (const bad of ['W-p01', '1lab', 'lab-', 'a--b', 'x'.repeat(25)]) expect(() => parseLabName(bad)).toThrow(`bad lab name '${bad}'`);
  });
});

describe('resolveDeployment', () => {
  const now = new Date('2026-11-25T10:00:00Z');

  it('computes expiry from the TTL and keeps the level default regions', () => {
    const d = resolveDeployment(getLab('expert'), { owner: 'ada', ttl: '2h', now });
    expect(d).toMatchObject({ name: 'expert', owner: 'ada', expiresAt: '2026-11-25T12:00:00Z', regions: ['us-east-1', 'eu-west-1'] });
    expect(d.allowCidr).toBeUndefined();
  });

  it('builds single-region levels in the first region listed', () => {
    const d = resolveDeployment(getLab('beginner'), { regions: 'eu-west-1,us-east-1', now });
    expect(d.regions).toEqual(['eu-west-1']);
  });

  it('refuses a single region for expert', () => {
    expect(() => resolveDeployment(getLab('expert'), { regions: 'us-east-1', now })).toThrow('needs at least 2');
  });
});
