// Checks of the intermediate Git and CI exercise, on the learner's working directory (--workdir):
// a Git repository with a commit, a .gitignore that keeps .env and node_modules out, and a
// committed CI job (GitHub Actions or GitLab CI) that installs, tests against a PostgreSQL
// service and does not swallow a red test. Git is only read (rev-parse, check-ignore, ls-files).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pass, type Check } from './types.js';
import { checked, Gap, need } from './intermediate-support.js';

const run = promisify(execFile);

/** A read-only git command in `dir`: its stdout, or undefined when git exits non-zero. */
async function git(dir: string, args: readonly string[]): Promise<string | undefined> {
  // GIT_DIR and friends (set inside hooks) would point git at another repository.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  try {
    return (await run('git', ['-c', 'safe.directory=*', '-C', dir, ...args], { env, timeout: 5000, maxBuffer: 4 << 20 })).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Gap('git is not installed here', 'install git (apt-get install -y git) and check again');
    return undefined;
  }
}

const NOT_A_REPO = (dir: string) =>
  new Gap(`${dir} is not a Git repository (no .git)`, 'cd into your API and `git init`, add a .gitignore, then commit');

/** Tracked files that hold secrets: .env and .env.* (but the committed examples). */
const isSecretFile = (path: string) => /(^|\/)\.env(\.(?!example$|sample$|template$)[^/]+)?$/.test(path);

const repo: Check = {
  id: 'intermediate-git-ci/repo',
  title: 'the workdir is a Git repository with a commit; .gitignore ignores .env and node_modules/; no .env tracked',
  run: (ctx) =>
    checked(async () => {
      const dir = ctx.workdir;
      if (!existsSync(join(dir, '.git'))) throw NOT_A_REPO(dir);
      const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD']);
      need(head, `${dir} has no commit yet`, 'git add . && git commit -m "..."');
      const tracked = ((await git(dir, ['ls-files', '-z'])) ?? '').split('\0').filter(isSecretFile);
      need(
        tracked.length === 0,
        `Git tracks ${tracked.join(', ')}`,
        'git rm --cached the file, rotate what it held, and keep a .env.example without values instead',
      );
      // check-ignore answers for paths Git does not track (a tracked .env was refused above).
      const ignored = async (path: string) => (await git(dir, ['check-ignore', '-q', '--', path])) !== undefined;
      const gaps = [(await ignored('.env')) ? '' : '.env', (await ignored('node_modules/labforge-check.js')) ? '' : 'node_modules/'].filter(
        Boolean,
      );
      need(
        gaps.length === 0,
        `.gitignore does not ignore ${gaps.join(' nor ')}`,
        'add `.env` and `node_modules/` to .gitignore (and commit it)',
      );
      return pass(`commit ${head.trim().slice(0, 12)}; .env and node_modules/ ignored; no .env tracked`);
    }),
};

interface Job {
  readonly file: string;
  readonly name: string;
  readonly commands: string[];
  readonly services: string[];
  readonly env: Record<string, unknown>;
  /** The job may fail without failing the pipeline (continue-on-error, allow_failure). */
  readonly tolerated: boolean;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** A YAML scalar as text; '' for anything else (a mapping, a list, nothing). */
const textOf = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function githubJobs(file: string, doc: Record<string, unknown>): Job[] {
  return Object.entries(asObject(doc.jobs)).map(([name, raw]) => {
    const job = asObject(raw);
    const steps = asList(job.steps).map(asObject);
    return {
      file,
      name,
      // A step that may fail hides a red test: keep it out of the commands that count.
      commands: steps
        .filter((s) => s['continue-on-error'] !== true)
        .map((s) => s.run)
        .filter((r): r is string => typeof r === 'string'),
      services: Object.values(asObject(job.services)).map((s) => (typeof s === 'string' ? s : textOf(asObject(s).image))),
      env: {
        ...asObject(doc.env),
        ...asObject(job.env),
        ...(Object.assign({}, ...steps.map((s) => asObject(s.env))) as Record<string, unknown>),
      },
      tolerated: job['continue-on-error'] === true,
    };
  });
}

const GITLAB_KEYWORDS = new Set([
  'stages',
  'variables',
  'default',
  'include',
  'workflow',
  'image',
  'services',
  'before_script',
  'after_script',
  'cache',
]);

function gitlabJobs(file: string, doc: Record<string, unknown>): Job[] {
  const defaults = asObject(doc.default);
  return Object.entries(doc)
    .filter(([name, raw]) => !GITLAB_KEYWORDS.has(name) && !name.startsWith('.') && 'script' in asObject(raw))
    .map(([name, raw]) => {
      const job = asObject(raw);
      const services = asList(job.services ?? defaults.services ?? doc.services);
      return {
        file,
        name,
        commands: [...asList(job.before_script ?? defaults.before_script ?? doc.before_script), ...asList(job.script)].filter(
          (c): c is string => typeof c === 'string',
        ),
        services: services.map((s) => (typeof s === 'string' ? s : textOf(asObject(s).name))),
        env: { ...asObject(doc.variables), ...asObject(job.variables) },
        tolerated: Boolean(job.allow_failure),
      };
    });
}

const INSTALL = /\b(npm (ci|install|i)|pnpm (install|i)|yarn( install)?)\b/;
const TEST = /\b(npm (run )?test|npm t|pnpm (run )?test|yarn (run )?test|npx (vitest|jest)|node --test)\b/;
const SWALLOWED = /\|\|\s*(true\b|:|exit 0\b)|;\s*exit 0\b/;

/** What a job still lacks to be the CI the exercise asks for. */
function gapsOf(job: Job): string[] {
  const test = job.commands.filter((c) => TEST.test(c));
  const envText = Object.entries(job.env).map(([k, v]) => `${k}=${String(v)}`);
  return [
    job.commands.some((c) => INSTALL.test(c)) ? '' : 'an install step (npm ci)',
    test.length > 0 ? '' : 'a test step (npm test)',
    test.some((c) => SWALLOWED.test(c)) || job.tolerated
      ? 'a red test that fails the job (no continue-on-error, allow_failure or `|| true`)'
      : '',
    job.services.some((s) => /(^|\/)postgres(:|$)/.test(s)) ? '' : 'a PostgreSQL service (image postgres:...)',
    envText.some((e) => /^(DATABASE_URL=postgres(ql)?:\/\/|PGHOST=)/.test(e)) ? '' : 'DATABASE_URL=postgres://... for the tests',
  ].filter(Boolean);
}

/** The CI files of `dir` (relative paths) and their jobs; a file that is not YAML is a Gap. */
async function ciJobs(dir: string): Promise<{ files: string[]; jobs: Job[] }> {
  const { parse } = await import('yaml');
  const workflows = join(dir, '.github', 'workflows');
  const files = [
    ...(existsSync(workflows)
      ? readdirSync(workflows)
          .filter((f) => /\.ya?ml$/.test(f))
          .map((f) => `.github/workflows/${f}`)
      : []),
    ...(existsSync(join(dir, '.gitlab-ci.yml')) ? ['.gitlab-ci.yml'] : []),
  ];
  const jobs = files.flatMap((file) => {
    let doc: Record<string, unknown>;
    try {
      doc = asObject(parse(readFileSync(join(dir, file), 'utf8')));
    } catch (error) {
      throw new Gap(
        `${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        'fix the YAML (a linter such as actionlint or `gitlab-ci-lint` helps)',
      );
    }
    return file === '.gitlab-ci.yml' ? gitlabJobs(file, doc) : githubJobs(file, doc);
  });
  return { files, jobs };
}

const ci: Check = {
  id: 'intermediate-git-ci/ci',
  title: 'a committed CI job (.github/workflows/*.yml or .gitlab-ci.yml): install, test against a PostgreSQL service, red fails the job',
  run: (ctx) =>
    checked(async () => {
      const dir = ctx.workdir;
      const { files, jobs } = await ciJobs(dir);
      need(
        files.length > 0,
        `no .github/workflows/*.yml nor .gitlab-ci.yml in ${dir}`,
        'write a CI workflow: a job with a postgres service, DATABASE_URL, npm ci and npm test',
      );
      need(
        jobs.length > 0,
        `${files.join(', ')} define${files.length === 1 ? 's' : ''} no job`,
        'add a job (GitHub: jobs.<name>.steps; GitLab: <name>.script)',
      );
      const best = jobs.map((job) => ({ job, gaps: gapsOf(job) })).sort((a, b) => a.gaps.length - b.gaps.length)[0]!;
      need(
        best.gaps.length === 0,
        `the closest job, ${best.job.file}: ${best.job.name}, lacks ${best.gaps.join('; ')}`,
        'services: postgres with an image postgres:15, env DATABASE_URL: postgres://postgres:postgres@localhost:5432/postgres, steps npm ci then npm test',
      );
      if (!existsSync(join(dir, '.git'))) throw NOT_A_REPO(dir);
      const committed = ((await git(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])) ?? '').split('\n');
      need(
        committed.includes(best.job.file),
        `${best.job.file} is not committed`,
        `git add ${best.job.file} && git commit: CI runs what the repository holds`,
      );
      return pass(
        `${best.job.file}: job ${best.job.name} installs, tests against ${best.job.services.find((s) => /postgres/.test(s))}, and fails on a red test`,
      );
    }),
};

export const GIT_CI_CHECKS: readonly Check[] = [repo, ci];
