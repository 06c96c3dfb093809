// Where labs live and how their state is written.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertHomeUsable, existingLab, labforgeHome, writeFileAtomic } from '../../constructs/local/home.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('labforge home', () => {
  it('is LABFORGE_HOME (relative to the cwd) or ./.labforge', () => {
    expect(labforgeHome({}, '/srv/p')).toBe('/srv/p/.labforge');
    expect(labforgeHome({ LABFORGE_HOME: 'labs' }, '/srv/p')).toBe('/srv/p/labs');
    expect(labforgeHome({ LABFORGE_HOME: '/var/lib/lf' }, '/srv/p')).toBe('/var/lib/lf');
  });

  it('refuses a home below a file, naming the file', () => {
    const file = join(dir, 'f');
    writeFileSync(file, '');
    expect(() => assertHomeUsable(join(file, 'a', 'b'))).toThrow(
      `cannot use ${file}/a/b as the labforge home: ${file} is a file, not a directory`,
    );
    expect(() => assertHomeUsable(join(dir, 'not-yet', 'there'))).not.toThrow();
  });

  it('an unknown lab names the known ones', () => {
    const home = join(dir, 'h');
    for (const lab of ['alpha', 'beta']) {
      mkdirSync(join(home, lab), { recursive: true });
      writeFileSync(join(home, lab, 'state.json'), '{}');
    }
    expect(() => existingLab(home, 'gamma')).toThrow(`unknown lab 'gamma' in ${home} (known labs: alpha, beta)`);
    expect(() => existingLab(join(dir, 'none'), 'gamma')).toThrow('no labs there yet');
  });

  it('writes files atomically with the mode asked for, leaving no temporary file', () => {
    const target = join(dir, 'secrets.json');
    writeFileAtomic(target, '{"a":1}', 0o600);
    writeFileAtomic(target, '{"a":2}', 0o600);
    expect((statSync(target).mode & 0o777).toString(8)).toBe('600');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
