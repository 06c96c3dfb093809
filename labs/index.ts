// The catalog: one LabSpec per level, validated once when first read.
import { choiceError } from '../constructs/model/errors.js';
import { LEVELS, type Level, type LabSpec } from '../constructs/model/types.js';
import { validateLabSpec } from '../constructs/model/validate.js';
import { advanced } from './advanced.js';
import { beginner } from './beginner.js';
import { expert } from './expert.js';
import { intermediate } from './intermediate.js';

const CATALOG: Record<Level, LabSpec> = { beginner, intermediate, advanced, expert };
let validated = false;

export function allLabs(): LabSpec[] {
  if (!validated) {
    for (const level of LEVELS) validateLabSpec(CATALOG[level]);
    validated = true;
  }
  return LEVELS.map((level) => CATALOG[level]);
}

export function getLab(level: string): LabSpec {
  const lab = allLabs().find((l) => l.level === level);
  if (!lab) throw choiceError('level', level, LEVELS);
  return lab;
}
