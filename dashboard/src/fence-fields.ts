// The fields of a namespaced action block's YAML body, read one by one: a
// wrong one is a FenceProblem, shown in that block for the author (the block
// is then plain text) and nothing else is affected.

/** What is wrong with a block, shown after its info string (so it starts with ": " or " "). */
export class FenceProblem extends Error {
  constructor(message: string, separator = ': ') {
    super(`${separator}${message}`);
  }
}

export function requiredText(fields: Record<string, unknown>, name: string): string {
  const value = optionalText(fields, name);
  if (value === null || value === '') throw new FenceProblem(`${name} is missing`);
  return value;
}

export function optionalText(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.replace(/\n$/, '');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new FenceProblem(`${name} must be text`);
}

export function booleanField(fields: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new FenceProblem(`${name} must be true or false`);
  return value;
}

export function numberField(fields: Record<string, unknown>, name: string, fallback: number): number {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new FenceProblem(`${name} must be a number of 0 or more`);
  }
  return value;
}

/** A count or period where .inf or -1 means forever (Educates' cooldown and retries). */
export function foreverField(fields: Record<string, unknown>, name: string, fallback: number): number {
  const value = fields[name];
  if (value === -1 || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return numberField(fields, name, fallback);
}
