// The handout sheet of a workshop: per participant their lab, where to connect, their generated
// credentials and the level's exercises. Markdown and HTML print one participant per page (cut
// and hand out); CSV is one row per participant (mail merge). The file holds secrets: 0600.
import type { LabSpec } from '../model/types.js';
import type { SheetEntry } from './participants.js';

export const SHEET_FORMATS = ['md', 'csv', 'html'] as const;
export type SheetFormat = (typeof SHEET_FORMATS)[number];

export interface SheetInput {
  readonly workshop: string;
  readonly lab: LabSpec;
  readonly target: string;
  readonly entries: readonly SheetEntry[];
}

function markdown({ workshop, lab, target, entries }: SheetInput): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const pages = entries.map(({ participant: p, connection, secrets }) => {
    const rows = [...connection.map(([k, v]) => [k, `\`${v}\``]), ...secrets.map(([k, v]) => [k, `\`${v}\``])];
    return [
      `## ${p.id}: lab \`${p.lab}\``,
      '',
      '| what | value |',
      '| --- | --- |',
      ...rows.map(([k, v]) => `| ${cell(k!)} | ${cell(v!)} |`),
      '',
      '### Exercises',
      '',
      ...lab.exercises.flatMap((e, i) => [`${i + 1}. **${e.title}** (\`${e.id}\`)`, ...e.steps.map((s) => `   - ${s}`)]),
      '',
    ].join('\n');
  });
  return [`# Workshop ${workshop}: ${lab.title} (${target}, ${entries.length} participants)`, '', pages.join('\n---\n\n')].join('\n');
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv({ lab, entries }: SheetInput): string {
  // One column per name any participant has, in first-seen order: every row lines up.
  const columns: string[] = [];
  for (const e of entries) for (const [k] of [...e.connection, ...e.secrets]) if (!columns.includes(k)) columns.push(k);
  const header = ['participant', 'lab', ...columns, 'exercises'];
  const rows = entries.map((e) => {
    const values = new Map([...e.connection, ...e.secrets]);
    return [e.participant.id, e.participant.lab, ...columns.map((c) => values.get(c) ?? ''), lab.exercises.map((x) => x.title).join('; ')];
  });
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function html({ workshop, lab, target, entries }: SheetInput): string {
  const exercises = lab.exercises
    .map(
      (e) =>
        `<li><strong>${escapeHtml(e.title)}</strong> (<code>${escapeHtml(e.id)}</code>)<ul>${e.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul></li>`,
    )
    .join('');
  const pages = entries
    .map(({ participant: p, connection, secrets }) => {
      const rows = [...connection, ...secrets]
        .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`)
        .join('');
      return `<section><h2>${escapeHtml(p.id)}: lab <code>${escapeHtml(p.lab)}</code></h2><table>${rows}</table><h3>Exercises</h3><ol>${exercises}</ol></section>`;
    })
    .join('\n');
  const title = `Workshop ${escapeHtml(workshop)}: ${escapeHtml(lab.title)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;margin:2em}section{page-break-after:always;margin-bottom:3em}th{text-align:left;padding-right:1em}code{font-size:95%}</style>
</head><body><h1>${title} (${escapeHtml(target)}, ${entries.length} participants)</h1>
${pages}
</body></html>
`;
}

export function renderSheet(format: SheetFormat, input: SheetInput): string {
  return format === 'md' ? markdown(input) : format === 'csv' ? csv(input) : html(input);
}
