// Checks of the intermediate exercises (none yet).
import type { Check } from './types.js';

export const INTERMEDIATE_CHECKS: Record<string, readonly Check[]> = {};
