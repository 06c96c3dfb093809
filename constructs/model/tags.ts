// Tag keys carried by every cloud resource of a lab, so sweeps and cost reports can find them.

export const TAG_LAB = 'labforge:lab';
export const TAG_LEVEL = 'labforge:level';
export const TAG_OWNER = 'labforge:owner';
export const TAG_EXPIRES_AT = 'labforge:expires-at';
export const REQUIRED_TAG_KEYS = [TAG_LAB, TAG_LEVEL, TAG_OWNER, TAG_EXPIRES_AT] as const;

export interface LabTagInput {
  readonly lab: string;
  readonly level: string;
  readonly owner: string;
  /** ISO-8601 UTC instant. */
  readonly expiresAt: string;
}

export function labTags(input: LabTagInput): Record<string, string> {
  return {
    [TAG_LAB]: input.lab,
    [TAG_LEVEL]: input.level,
    [TAG_OWNER]: input.owner,
    [TAG_EXPIRES_AT]: input.expiresAt,
  };
}
