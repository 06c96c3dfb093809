// Checks of the expert exercises (none yet).
import type { Check } from './types.js';

export const EXPERT_CHECKS: Record<string, readonly Check[]> = {};
