// A local workshop of 5 beginner participants, as an instructor runs it: up -> all healthy ->
// the sheet has 5 entries whose credentials work (a real login to each participant's PostgreSQL)
// -> reset one (new server, new password) -> down -> nothing left. Plus expiry: list-labs, reap.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solveSql } from './solutions/beginner.js';
import {
  assertNothingLeft,
  assertPrerequisites,
  cleanup,
  cli,
  json,
  makeHome,
  processesInside,
  startCli,
  until,
  type StatusComponent,
} from './helpers.js';

const { parent, home } = makeHome('workshop');
const W = 'ws1';
const LABS = ['p01', 'p02', 'p03', 'p04', 'p05'].map((id) => `${W}-${id}`);

/** postgres:// URLs of the sheet's CSV, by lab. */
function sheetUrls(csvFile: string): Map<string, string> {
  const [header, ...rows] = readFileSync(csvFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const lab = header!.indexOf('lab');
  const url = header!.indexOf('db url');
  return new Map(rows.map((r) => [r[lab]!, r[url]!]));
}

async function login(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ who: string }>('SELECT current_user AS who')).rows[0]!.who;
  } finally {
    await client.end();
  }
}

describe('local workshop, 5 beginner participants', () => {
  afterAll(() => cleanup(parent, home));
  beforeAll(() => assertPrerequisites(false));

  const components = new Map<string, StatusComponent[]>();

  it('workshop up starts 5 isolated labs, 3 at a time, one progress line each', async () => {
    const r = await cli(['workshop', 'up', 'beginner', '--participants', '5', '--name', W, '--concurrency', '3'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Workshop '${W}' (`);
    expect(r.stdout).toContain('5/5 participant labs up');
    for (const lab of LABS) expect(r.stderr).toMatch(new RegExp(`${lab}\\s+up\\s+[\\d.]+s\\s+1/1 health checks pass`));
    for (const lab of LABS) components.set(lab, json(await cli(['status', lab, '--json'], { home })).components);
    // Isolated: every participant has a server of its own, on a port of its own.
    const ports = [...components.values()].map((c) => c[0]!.port);
    expect(new Set(ports).size).toBe(5);
  });

  it("workshop status shows every participant running and healthy (real round trips), and how far each is from their labs' checks", async () => {
    // p02 has done the SQL exercise (the reference solution); nobody has an app running.
    const { urls } = json<{ urls: Record<string, string> }>(await cli(['secrets', `${W}-p02`, '--json'], { home }));
    await solveSql(urls.db!);
    const r = await cli(['workshop', 'status', W, '--json', '--app-url', 'http://127.0.0.1:9'], { home });
    expect(r.code, r.stderr).toBe(0);
    const rows = json(r).participants as {
      participant: { lab: string };
      state: string;
      health: string;
      healthy: boolean;
      exercises: string;
    }[];
    expect(rows.map((x) => [x.participant.lab, x.state, x.health, x.healthy])).toEqual(LABS.map((l) => [l, 'running', '1/1', true]));
    expect(rows.map((x) => x.exercises)).toEqual(LABS.map((l) => (l === `${W}-p02` ? '1/4 done (5/11 checks)' : '0/4 done (0/11 checks)')));
  });

  let urls = new Map<string, string>();
  it('the sheet (csv, md, html) has 5 entries, mode 0600, whose credentials log in to each own server', async () => {
    for (const format of ['csv', 'md', 'html']) {
      const file = join(parent, `sheet.${format}`);
      const r = await cli(['workshop', 'sheet', W, '--format', format, '--out', file], { home });
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const text = readFileSync(file, 'utf8');
      for (const lab of LABS) expect(text).toContain(lab);
    }
    urls = sheetUrls(join(parent, 'sheet.csv'));
    expect([...urls.keys()]).toEqual(LABS);
    const passwords = new Set([...urls.values()].map((u) => new URL(u).password));
    expect(passwords.size).toBe(5);
    for (const [lab, url] of urls) {
      expect(new URL(url).port, lab).toBe(String(components.get(lab)![0]!.port));
      expect(await login(url), lab).toBe('learner');
    }
    expect(readFileSync(join(parent, 'sheet.md'), 'utf8')).toMatch(/### Exercises/);
  });

  it('workshop reset recreates one participant: new server, new password; the old one no longer works', async () => {
    const before = urls.get(`${W}-p03`)!;
    const r = await cli(['workshop', 'reset', W, 'p03'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`p03 ${W}-p03: recreated`);
    const file = join(parent, 'sheet-after.csv');
    expect((await cli(['workshop', 'sheet', W, '--format', 'csv', '--out', file], { home })).code).toBe(0);
    const after = sheetUrls(file).get(`${W}-p03`)!;
    expect(new URL(after).password).not.toBe(new URL(before).password);
    expect(await login(after)).toBe('learner');
    await expect(login(before)).rejects.toThrow();
    // The others were not touched.
    expect(sheetUrls(file).get(`${W}-p01`)).toBe(urls.get(`${W}-p01`));
    components.set(`${W}-p03`, json(await cli(['status', `${W}-p03`, '--json'], { home })).components);
  });

  it('list-labs shows the 5 labs with their workshop, age and expiry', async () => {
    const labs = json<{ name: string; workshop: string; expiresAt: string; expired: boolean }[]>(
      await cli(['list-labs', '--json'], { home }),
    );
    expect(labs.map((l) => [l.name, l.workshop, l.expired])).toEqual(LABS.map((l) => [l, W, false]));
    const hoursLeft = (Date.parse(labs[0]!.expiresAt) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(3.9);
    expect(hoursLeft).toBeLessThanOrEqual(4);
  });

  it('workshop down removes all 5 and prints one combined receipt; nothing is left', async () => {
    const r = await cli(['workshop', 'down', W], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Teardown receipt for workshop '${W}' \\([\\d.]+s\\): nothing left$`, 'm'));
    for (const lab of LABS) expect(r.stdout).toMatch(new RegExp(`${lab}\\s+removed, nothing left`));
    for (const lab of LABS) await assertNothingLeft(expect, components.get(lab)!, join(home, lab));
    expect((await cli(['workshop', 'status', W], { home })).code).toBe(2);
  });
});

describe('an interrupted workshop up', () => {
  const { parent: p3, home: h3 } = makeHome('ws-ctrlc');
  afterAll(() => cleanup(p3, h3));

  it('Ctrl-C after the first participant: exit 130, the labs still starting undo themselves, workshop down removes the rest', async () => {
    const { child, done } = startCli(['workshop', 'up', 'beginner', '--participants', '4', '--name', 'wi', '--concurrency', '1'], {
      home: h3,
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('the first participant is up', 30_000, async () => (/wi-p01\s+up/.test(stderr) ? true : undefined), 20);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/[1-3]\/4 participant labs up/);
    const labs = json<{ name: string }[]>(await cli(['list-labs', '--json'], { home: h3 }));
    expect(labs.length).toBeGreaterThanOrEqual(1);
    expect(labs.length).toBeLessThan(4);
    const down = await cli(['workshop', 'down', 'wi'], { home: h3 });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('nothing left');
    expect(processesInside(h3)).toEqual([]);
    expect(json(await cli(['list-labs', '--json'], { home: h3 }))).toEqual([]);
  });
});

describe('expiry: reap removes expired labs only', () => {
  const { parent: p2, home: h2 } = makeHome('reap');
  afterAll(() => cleanup(p2, h2));

  it('a lab given --ttl 90m is not reaped now, but is by `reap --at` a later instant; the other lab stays', async () => {
    expect((await cli(['up', 'beginner', '--name', 'short', '--ttl', '90m'], { home: h2 })).code).toBe(0);
    expect((await cli(['up', 'beginner', '--name', 'long', '--ttl', '2d'], { home: h2 })).code).toBe(0);
    const now = await cli(['reap'], { home: h2 });
    expect(now.code).toBe(0);
    expect(now.stdout).toContain('nothing expired');
    const inTwoHours = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const dry = await cli(['reap', '--at', inTwoHours, '--dry-run'], { home: h2 });
    expect(dry.stdout.trim()).toMatch(/^would remove short \(local beginner, expired .+\)$/);
    const shortState = json(await cli(['status', 'short', '--json'], { home: h2 }));
    const r = await cli(['reap', '--at', inTwoHours, '--json'], { home: h2 });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).labs).toEqual([expect.objectContaining({ lab: 'short', ok: true })]);
    await assertNothingLeft(expect, shortState.components, join(h2, 'short'));
    const left = json<{ name: string }[]>(await cli(['list-labs', '--json'], { home: h2 }));
    expect(left.map((l) => l.name)).toEqual(['long']);
  });

  it('bad input: participants 0, -1, 201, abc; an unknown format; a workshop too big for the machine: one line, exit 2, nothing created', async () => {
    for (const n of ['0', '-1', '201', 'abc']) {
      const r = await cli(['workshop', 'up', 'beginner', '--participants', n, '--name', 'bad'], { home: h2 });
      expect([r.code, r.stderr.trim()]).toEqual([2, `labforge: bad --participants '${n}' (expected a whole number from 1 to 200)`]);
    }
    const big = await cli(['workshop', 'up', 'expert', '--participants', '200', '--name', 'huge'], { home: h2 });
    expect(big.code).toBe(2);
    expect(big.stderr.trim()).toMatch(
      /^labforge: --participants 200 does not fit on this machine: 200 local expert labs need about [\d.]+ GiB of memory .*; at most \d+ here/,
    );
    const labs = json<{ name: string }[]>(await cli(['list-labs', '--json'], { home: h2 }));
    expect(labs.map((l) => l.name)).toEqual(['long']);
    const sheet = await cli(['workshop', 'sheet', 'nope', '--format', 'pdf'], { home: h2 });
    expect([sheet.code, sheet.stderr.trim()]).toEqual([2, "labforge: unknown format 'pdf' (valid: md, csv, html)"]);
  });
});
