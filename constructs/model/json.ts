// Reading JSON that a server answered, whose shape nothing guarantees.

/** `value[key]` when `value` is a JSON object, else undefined. */
export function fieldOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
