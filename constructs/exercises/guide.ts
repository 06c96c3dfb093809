// The lab guide: templates/guides/guide.md filled with the lab's real connection info, the
// skill -> exercise table of its level and every exercise with the command that checks it.
import { readFileSync } from 'node:fs';
import { driverOf } from '../local/drivers/index.js';
import { existingLab, readState } from '../local/home.js';
import { templatePath } from '../model/paths.js';
import { getLab } from '../../labs/index.js';
import { CHECKS } from './index.js';
import { DEFAULT_APP_URL } from './context.js';

export function renderGuide(home: string, name: string): string {
  const state = readState(existingLab(home, name))!;
  const lab = getLab(state.level);
  const connection = [
    '| component | kind | address | connect |',
    '| --- | --- | --- | --- |',
    ...state.components.filter((c) => c.port > 0).map((c) => `| ${c.id} | ${c.kind} | ${c.host}:${c.port} | \`${driverOf(c).url(c)}\` |`),
    '',
    `Your own app (the web exercises) is expected at ${DEFAULT_APP_URL}; \`labforge check ${name} --app-url URL\` looks elsewhere.`,
  ].join('\n');
  const skills = [
    '| skill | exercises |',
    '| --- | --- |',
    ...lab.skills.map(
      (skill, i) =>
        `| ${skill} | ${lab.exercises
          .filter((e) => e.skills.includes(i))
          .map((e) => `\`${e.id}\``)
          .join(', ')} |`,
    ),
  ].join('\n');
  const exercises = lab.exercises
    .map((e, n) => {
      const checks = CHECKS[lab.level][e.id] ?? [];
      return [
        `### ${n + 1}. ${e.title} (\`${e.id}\`)`,
        '',
        ...(e.task ? [`From the ${lab.level} example tasks: *${e.task}*`, ''] : []),
        ...e.steps.map((s) => `- ${s}`),
        '',
        checks.length > 0
          ? `Checked by \`labforge check ${name} ${e.id}\`: ${checks.map((c) => c.title).join('; ')}.`
          : 'No automatic check yet: compare your result with the steps.',
        '',
      ].join('\n');
    })
    .join('\n');
  const values: Record<string, string> = {
    title: lab.title,
    summary: lab.summary,
    lab: name,
    level: lab.level,
    connection,
    skills,
    exercises,
  };
  return readFileSync(templatePath('guides', 'guide.md'), 'utf8').replace(
    /\{\{(\w+)\}\}/g,
    (_, key: string) => values[key] ?? `{{${key}}}`,
  );
}
