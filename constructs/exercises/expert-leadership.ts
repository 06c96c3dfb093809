// Checks of expert-leadership: what a lead writes, in the learner's working directory: an ADR for
// the sharding scheme, a review checklist with a verdict, and a plan review of an infrastructure
// change made through code (two `labforge synth` outputs, the review naming what changed).
import { readdirSync, readFileSync } from 'node:fs';
import { guarded } from './probe.js';
import { fail, pass, type Check, type CheckContext } from './types.js';
import { inWorkdir, readWorkdir } from './expert-tools.js';

const FILE_HINT = 'write the file in your working directory (`labforge check <lab> --workdir DIR` looks in DIR)';
const SECTIONS = ['Status', 'Context', 'Decision', 'Consequences'] as const;

/** What an ADR lacks (empty when it is complete). */
function adrGaps(text: string): string[] {
  const gaps: string[] = [];
  const heading = (name: string) => new RegExp(`^(#{1,6}\\s*${name}\\b|${name}\\s*:)`, 'im');
  const missing = SECTIONS.filter((s) => !heading(s).test(text));
  if (missing.length > 0) gaps.push(`no ${missing.join(', ')} section`);
  // The status is the text after "Status:" or the first line under "## Status".
  const status = /^status\s*:\s*(.+)$/im.exec(text)?.[1] ?? /^#{1,6}\s*status\b.*\n+\s*(.+)$/im.exec(text)?.[1] ?? '';
  if (!/\b(proposed|accepted|deprecated|superseded|rejected)\b/i.test(status))
    gaps.push(`status '${status.trim()}' is not one of proposed, accepted, deprecated, superseded, rejected`);
  if (!/shard/i.test(text)) gaps.push('it does not mention sharding');
  if (!/re-?shard/i.test(text)) gaps.push('no resharding plan (the word resharding does not appear)');
  if (!/md5|hash/i.test(text)) gaps.push('the routing rule (hash of the key mod the shard count) is not stated');
  return gaps;
}

const adr: Check = {
  id: 'expert-leadership/adr',
  title: 'docs/adr/: an ADR with Status, Context, Decision and Consequences on the sharding scheme and its resharding plan',
  run: (ctx) =>
    guarded(async () => {
      let names: string[];
      try {
        names = readdirSync(inWorkdir(ctx, 'docs', 'adr'))
          .filter((n) => n.endsWith('.md'))
          .sort();
      } catch {
        return fail(`there is no docs/adr/ in ${inWorkdir(ctx)}`, `write docs/adr/0001-sharding.md: ${SECTIONS.join(', ')}; ${FILE_HINT}`);
      }
      if (names.length === 0) return fail('docs/adr/ has no .md file', `write docs/adr/0001-sharding.md: ${SECTIONS.join(', ')}`);
      const reviewed = names.map((n) => ({ n, gaps: adrGaps(readFileSync(inWorkdir(ctx, 'docs', 'adr', n), 'utf8')) }));
      const done = reviewed.find((r) => r.gaps.length === 0);
      if (done) return pass(`docs/adr/${done.n}: ${SECTIONS.join(', ')}; sharding, the routing rule and a resharding plan`);
      const best = reviewed.sort((a, b) => a.gaps.length - b.gaps.length)[0]!;
      return fail(
        `docs/adr/${best.n}: ${best.gaps.join('; ')}`,
        'one ADR per decision: the context (why shard), the decision (key, rule, shard count, placement), the consequences, and how to reshard',
      );
    }, FILE_HINT),
};

const TOPICS: readonly [string, RegExp][] = [
  ['tests', /\btest/i],
  ['migrations', /migration/i],
  ['observability', /observab|metric|logging|\blogs?\b|tracing/i],
  ['rollback', /roll-?\s?back/i],
];

const checklist: Check = {
  id: 'expert-leadership/review-checklist',
  title: 'docs/review-checklist.md: a checkbox for tests, migrations, observability and rollback, and a verdict',
  run: (ctx) =>
    guarded(async () => {
      const text = readWorkdir(ctx, 'docs/review-checklist.md');
      if (text === undefined)
        return fail(
          `there is no docs/review-checklist.md in ${inWorkdir(ctx)}`,
          `review a pull request to the lab API: "- [x] ..." items, then "Verdict: approve" or "Verdict: request changes"; ${FILE_HINT}`,
        );
      const items = [...text.matchAll(/^\s*[-*]\s+\[([ xX])\]\s+(.+)$/gm)].map((m) => ({ done: m[1] !== ' ', text: m[2]! }));
      const missing = TOPICS.filter(([, re]) => !items.some((b) => re.test(b.text))).map(([t]) => t);
      if (missing.length > 0)
        return fail(
          `no checkbox item (- [ ] / - [x]) about ${missing.join(', ')} (${items.length} items found)`,
          'one checkbox per topic: tests, migrations, observability, rollback',
        );
      const verdict = /^\W*verdict\W*:\W*(approve|request changes)\b/im.exec(text)?.[1];
      if (!verdict) return fail('no verdict line', 'end the review with "Verdict: approve" or "Verdict: request changes"');
      const open = items.filter((b) => !b.done).length;
      return pass(`${items.length} items covering ${TOPICS.map(([t]) => t).join(', ')} (${open} open); verdict: ${verdict.toLowerCase()}`);
    }, FILE_HINT),
};

/** Terraform addresses (`type.name`) of every stack a synth wrote into `dir`, or undefined when there is none. */
function addresses(ctx: CheckContext, dir: string): Set<string> | undefined {
  let stacks: string[];
  try {
    stacks = readdirSync(inWorkdir(ctx, dir, 'stacks'));
  } catch {
    return undefined;
  }
  const found = new Set<string>();
  for (const stack of stacks) {
    let tf: { resource?: Record<string, Record<string, unknown>> };
    try {
      tf = JSON.parse(readFileSync(inWorkdir(ctx, dir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as typeof tf;
    } catch {
      continue;
    }
    for (const [type, byName] of Object.entries(tf.resource ?? {})) for (const name of Object.keys(byName)) found.add(`${type}.${name}`);
  }
  return found.size > 0 ? found : undefined;
}

const planDiff: Check = {
  id: 'expert-leadership/plan-diff',
  title: 'iac/before and iac/after are two synthesized plans that differ; docs/plan-review.md names what changed and counts it',
  run: (ctx) =>
    guarded(async () => {
      const synth =
        'labforge synth expert --target aws --out iac/before, change one option (e.g. --regions us-east-1,eu-west-1,ap-southeast-1) with --out iac/after';
      const before = addresses(ctx, 'iac/before');
      const after = addresses(ctx, 'iac/after');
      if (!before || !after)
        return fail(`no synthesized stacks in ${!before ? 'iac/before' : 'iac/after'}/stacks/ of ${inWorkdir(ctx)}`, synth);
      const added = [...after].filter((a) => !before.has(a));
      const removed = [...before].filter((a) => !after.has(a));
      if (added.length === 0 && removed.length === 0)
        return fail(
          `iac/before and iac/after hold the same ${before.size} resources`,
          `change the infrastructure between the two: ${synth}`,
        );
      const review = readWorkdir(ctx, 'docs/plan-review.md');
      const counts = `${added.length} added, ${removed.length} removed`;
      if (review === undefined)
        return fail(
          `no docs/plan-review.md (the plans differ: ${counts})`,
          'review the diff: the resources added and removed (type.name) and the counts, "N added, M removed"',
        );
      const said = (word: string) => Number(new RegExp(`(\\d+)\\s+(?:resources?\\s+)?${word}\\b`, 'i').exec(review)?.[1] ?? NaN);
      const gaps: string[] = [];
      if (said('added') !== added.length)
        gaps.push(
          `it says ${Number.isNaN(said('added')) ? 'nothing about' : said('added')} added; the plans differ by ${added.length} added`,
        );
      if (said('removed') !== removed.length)
        gaps.push(
          `it says ${Number.isNaN(said('removed')) ? 'nothing about' : said('removed')} removed; the plans differ by ${removed.length} removed`,
        );
      const named = [...added, ...removed].filter((a) => review.includes(a));
      if (named.length === 0) gaps.push(`it names none of the changed resources (e.g. ${[...added, ...removed][0]})`);
      if (gaps.length > 0)
        return fail(
          `docs/plan-review.md: ${gaps.join('; ')}`,
          'compare the resource addresses of the two cdk.tf.json files; write "N added, M removed" and list them',
        );
      return pass(`${counts} between iac/before and iac/after; the review names ${named.length} of them`);
    }, FILE_HINT),
};

export const LEADERSHIP_CHECKS: readonly Check[] = [adr, checklist, planDiff];
