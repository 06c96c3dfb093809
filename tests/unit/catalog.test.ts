import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../constructs/model/errors.js';
import { LEVELS, type LabSpec } from '../../constructs/model/types.js';
import { validateLabSpec } from '../../constructs/model/validate.js';
import { allLabs, getLab } from '../../labs/index.js';

/** Parses the seed file: four blocks, each "Skills:" lines then "Example Tasks:" lines. */
function parseSeed(text: string): { skills: string[]; tasks: string[] }[] {
  const blocks: { skills: string[]; tasks: string[] }[] = [];
  let section: 'skills' | 'tasks' | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === 'Skills:') {
      blocks.push({ skills: [], tasks: [] });
      section = 'skills';
    } else if (line === 'Example Tasks:') section = 'tasks';
    else if (line.startsWith('- ') && section) blocks.at(-1)![section].push(line.slice(2));
  }
  return blocks;
}

const seed = parseSeed(readFileSync(join(import.meta.dirname, '../../labs/backend-skill-levels.txt'), 'utf8'));

describe('catalog', () => {
  it('has one lab per seed level, in order', () => {
    expect(seed).toHaveLength(4);
    expect(allLabs().map((l) => l.level)).toEqual([...LEVELS]);
  });

  it.each(LEVELS.map((level, i) => [level, i] as const))('%s carries every seed skill and example task verbatim', (level, i) => {
    const lab = getLab(level);
    expect(lab.skills).toEqual(seed[i]!.skills);
    expect(lab.exampleTasks).toEqual(seed[i]!.tasks);
  });

  it.each([...LEVELS])('%s practises every skill in at least one exercise', (level) => {
    const lab = getLab(level);
    const practised = new Set(lab.exercises.flatMap((e) => e.skills));
    const missing = lab.skills.filter((_, i) => !practised.has(i));
    expect(missing).toEqual([]);
  });

  it.each([...LEVELS])('%s turns every example task into an exercise', (level) => {
    const lab = getLab(level);
    const tasks = lab.exercises.map((e) => e.task).filter(Boolean);
    expect(tasks.sort()).toEqual([...lab.exampleTasks].sort());
  });

  it('the expert lab is sharded, replicated and multi-region', () => {
    const expert = getLab('expert');
    const db = expert.components.find((c) => c.kind === 'postgres');
    expect(db).toMatchObject({ shards: 2, replicas: 1 });
    expect(expert.regions.min).toBeGreaterThanOrEqual(2);
    expect(expert.components.map((c) => c.kind)).toEqual(expect.arrayContaining(['kafka', 'kubernetes-cluster']));
  });
});

describe('validateLabSpec', () => {
  const beginner = getLab('beginner');
  const withComponents = (components: LabSpec['components']): LabSpec => ({ ...beginner, components });

  it('names the field and value of a bad shard count', () => {
    const bad = withComponents(beginner.components.map((c) => (c.kind === 'postgres' ? { ...c, shards: 0 } : c)));
    expect(() => validateLabSpec(bad)).toThrowError(
      new ValidationError('beginner.components[db].shards: must be a whole number >= 1, got 0'),
    );
  });

  it('rejects a reference to an unknown component', () => {
    const bad = withComponents(beginner.components.map((c) => (c.kind === 'postgres' ? { ...c, hostVm: 'nope' } : c)));
    expect(() => validateLabSpec(bad)).toThrow(/beginner\.components\[db\]\.hostVm: refers to unknown component 'nope'/);
  });

  it('rejects replicas in a single-region lab', () => {
    const bad = withComponents(beginner.components.map((c) => (c.kind === 'postgres' ? { ...c, replicas: 1 } : c)));
    expect(() => validateLabSpec(bad)).toThrow(/replicas live in another region/);
  });

  it('rejects duplicate component ids', () => {
    const bad = withComponents([...beginner.components, beginner.components[0]!]);
    expect(() => validateLabSpec(bad)).toThrow(/components\[net\]\.id: is used twice/);
  });

  it('rejects an exercise pointing at a skill that does not exist', () => {
    const bad: LabSpec = { ...beginner, exercises: [{ ...beginner.exercises[0]!, skills: [9] }] };
    expect(() => validateLabSpec(bad)).toThrow(/exercises\[0\]\.skills: index 9 is outside 0\.\.4/);
  });
});
