// Checks of the advanced exercises (none yet).
import type { Check } from './types.js';

export const ADVANCED_CHECKS: Record<string, readonly Check[]> = {};
