// Checks of advanced-cicd: files in the learner's working directory (--workdir). A Dockerfile for
// the API, read instruction by instruction; a GitHub Actions workflow, parsed as YAML: a test job
// with PostgreSQL and RabbitMQ service containers, and a deploy job gated on it that pushes the
// image to ECR and waits for a rolling update. Whether the image builds and the workflow runs
// needs Docker and GitHub: not checked here.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, pass, type Check, type CheckResult } from './types.js';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined, the keyword upper-cased. */
export function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const ROOT_USERS = new Set(['root', '0', 'root:root', '0:0', 'root:0', '0:root']);

/** What the Dockerfile lacks (empty: nothing). */
export function dockerfileGaps(text: string): string[] {
  const all = dockerInstructions(text);
  const froms = all.map((i, n) => ({ i, n })).filter(({ i }) => i.op === 'FROM');
  if (froms.length === 0) return ['a FROM line'];
  const stages = new Set<string>();
  const unpinned: string[] = [];
  for (const { i } of froms) {
    const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = words[0] ?? '';
    const earlierStage = stages.has(image.toLowerCase());
    if (words[1]?.toLowerCase() === 'as' && words[2]) stages.add(words[2].toLowerCase());
    if (earlierStage || image === 'scratch') continue;
    const tag = image.includes('@') ? 'digest' : /:([^/:]+)$/.exec(image)?.[1];
    if (!tag || tag === 'latest') unpinned.push(image);
  }
  const final = all.slice(froms.at(-1)!.n + 1);
  const user = final.filter((i) => i.op === 'USER').at(-1)?.args;
  const start = final
    .filter((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT')
    .map((i) => i.args)
    .join(' ');
  return [
    unpinned.length > 0 ? `a pinned base image (${unpinned.join(', ')}: give a version tag or digest, not latest)` : '',
    !user ? 'a USER (the API must not run as root)' : ROOT_USERS.has(user) ? `a non-root USER (it says USER ${user})` : '',
    final.some((i) => i.op === 'EXPOSE') ? '' : 'EXPOSE of the API port',
    /\bnode\b|\bnpm\b|\.m?js\b/.test(start) ? '' : 'a CMD or ENTRYPOINT that starts the API with node',
  ].filter(Boolean);
}

const dockerfile: Check = {
  id: 'advanced-cicd/dockerfile',
  title: 'a Dockerfile for the API: pinned base image, non-root USER, EXPOSE, CMD with node',
  run: async (ctx) => {
    const file = join(ctx.workdir, 'Dockerfile');
    if (!existsSync(file))
      return fail(`there is no ${file}`, 'write a Dockerfile for the API in your working directory (or point --workdir at it)');
    const gaps = dockerfileGaps(readFileSync(file, 'utf8'));
    if (gaps.length > 0)
      return fail(
        `${file} lacks ${gaps.join('; ')}`,
        'e.g. FROM node:20-alpine, COPY and npm ci, USER node, EXPOSE 8080, CMD ["node", "server.mjs"]',
      );
    return pass(`${file}: pinned base image, non-root user, exposed port, starts with node`);
  },
};

type Step = { run?: unknown; uses?: unknown; with?: Record<string, unknown>; 'continue-on-error'?: unknown };
interface Job {
  needs?: string | string[];
  if?: unknown;
  services?: Record<string, { image?: unknown; env?: Record<string, unknown> } | null>;
  steps?: Step[];
  'continue-on-error'?: unknown;
}

const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const runs = (job: Job) => (job.steps ?? []).map((s) => text(s.run)).join('\n');
const uses = (job: Job, action: RegExp) => (job.steps ?? []).filter((s) => action.test(text(s.uses)));

/** Every job `name` needs, directly or through others. */
function needsOf(jobs: Record<string, Job>, name: string, seen = new Set<string>()): Set<string> {
  const direct = jobs[name]?.needs;
  for (const n of typeof direct === 'string' ? [direct] : (direct ?? [])) {
    if (seen.has(n)) continue;
    seen.add(n);
    needsOf(jobs, n, seen);
  }
  return seen;
}

/** What makes `job` the test job: the service containers and a test run. */
function testGaps(job: Job): string[] {
  const services = Object.values(job.services ?? {}).filter((s) => s !== null);
  const postgres = services.find((s) => /postgres/i.test(text(s.image)));
  const env = postgres?.env ?? {};
  return [
    postgres ? '' : 'a postgres service container',
    !postgres || 'POSTGRES_PASSWORD' in env || 'POSTGRES_HOST_AUTH_METHOD' in env
      ? ''
      : 'POSTGRES_PASSWORD on the postgres service (the image refuses to start without it)',
    services.some((s) => /rabbitmq/i.test(text(s.image))) ? '' : 'a rabbitmq service container',
    /\btest\b|vitest|jest/.test(runs(job)) ? '' : 'a step that runs the tests',
    text(job['continue-on-error']) === 'true' || (job.steps ?? []).some((s) => text(s['continue-on-error']) === 'true')
      ? 'no continue-on-error (a failing test must fail the job)'
      : '',
  ].filter(Boolean);
}

function deployGaps(jobs: Record<string, Job>, name: string, test: string): string[] {
  const job = jobs[name]!;
  const all = runs(job);
  const pushAction = uses(job, /^docker\/build-push-action@/).some((s) => text(s.with?.push) === 'true');
  const ecr =
    uses(job, /^aws-actions\/amazon-ecr-login@/).length > 0 ||
    /ecr get-login-password|\.dkr\.ecr\./.test(`${all}\n${JSON.stringify(job.steps ?? [])}`);
  return [
    needsOf(jobs, name).has(test) ? '' : `needs: ${test} (deploy only after the tests passed)`,
    /always\(\)|cancelled\(\)|failure\(\)/.test(text(job.if)) ? `no if: ${text(job.if)} (it runs the deploy when the tests failed)` : '',
    pushAction || /docker\s+push\b|docker\s+buildx\s+build\b[^\n]*--push\b/.test(all)
      ? ''
      : 'a step that pushes the image (docker push, or docker/build-push-action with push: true)',
    ecr ? '' : 'the lab registry: log in to ECR (aws-actions/amazon-ecr-login) and push to its repository',
    /kubectl\b[^\n]*\b(set\s+image|apply|rollout\s+restart)\b|helm\s+upgrade\b/.test(all)
      ? ''
      : 'a rollout (kubectl set image deployment/api ...)',
    /kubectl\b[^\n]*\brollout\s+status\b|helm\s+upgrade\b[^\n]*--wait\b/.test(all)
      ? ''
      : 'kubectl rollout status (wait until the rolling update is done, fail the job if it is not)',
  ].filter(Boolean);
}

/** The verdict on one workflow file: pass when it has a test job and a deploy job gated on it. */
export async function workflowVerdict(file: string, source: string): Promise<CheckResult> {
  const { parse } = await import('yaml');
  let doc: { jobs?: Record<string, Job> } | null;
  try {
    doc = parse(source) as typeof doc;
  } catch (error) {
    return fail(`${file} is not YAML: ${(error as Error).message.split('\n')[0]}`, 'fix the YAML syntax');
  }
  const jobs = doc?.jobs ?? {};
  const names = Object.keys(jobs);
  if (names.length === 0) return fail(`${file} has no jobs`, 'add a test job and a deploy job');
  const test = names.map((n) => ({ n, gaps: testGaps(jobs[n]!) })).sort((a, b) => a.gaps.length - b.gaps.length)[0]!;
  if (test.gaps.length > 0)
    return fail(
      `${file}: no job runs the tests against PostgreSQL and RabbitMQ (closest, ${test.n}, lacks ${test.gaps.join('; ')})`,
      'a test job with services: postgres (image postgres:15) and rabbitmq (image rabbitmq:3), then run: npm test',
    );
  const deploys = names
    .filter((n) => n !== test.n)
    .map((n) => ({ n, gaps: deployGaps(jobs, n, test.n) }))
    .sort((a, b) => a.gaps.length - b.gaps.length);
  const deploy = deploys[0];
  if (!deploy) return fail(`${file}: ${test.n} runs the tests, but there is no deploy job`, `add a deploy job with needs: ${test.n}`);
  if (deploy.gaps.length > 0)
    return fail(
      `${file}: the deploy job (closest, ${deploy.n}) lacks ${deploy.gaps.join('; ')}`,
      'build the image, push it to ECR, kubectl set image deployment/api, kubectl rollout status deployment/api',
    );
  return pass(
    `${file}: ${test.n} tests against PostgreSQL and RabbitMQ service containers; ${deploy.n} (needs ${test.n}) pushes to ECR and waits for the rollout`,
  );
}

const pipeline: Check = {
  id: 'advanced-cicd/pipeline',
  title:
    'a GitHub Actions workflow: tests against PostgreSQL and RabbitMQ service containers, then a deploy gated on them (push to ECR, rolling update)',
  run: async (ctx) => {
    const dir = join(ctx.workdir, '.github', 'workflows');
    const files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
      : [];
    if (files.length === 0)
      return fail(`there is no workflow in ${dir}`, 'write .github/workflows/ci.yml in your working directory (or point --workdir at it)');
    const verdicts = await Promise.all(files.map((f) => workflowVerdict(join(dir, f), readFileSync(join(dir, f), 'utf8'))));
    return verdicts.find((v) => v.ok) ?? verdicts[0]!;
  },
};

export const CICD_CHECKS: readonly Check[] = [dockerfile, pipeline];
