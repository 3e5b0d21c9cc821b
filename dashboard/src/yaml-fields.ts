// Reading the workshop's YAML files field by field: each wrong field becomes a
// problem naming its file and place, for the author's banner, and the value
// the dashboard goes on with (none). Nothing here throws.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export type ParseYaml = (text: string) => unknown;

/**
 * A YAML file holding a mapping; null when it is missing (quietly) or wrong
 * (with a problem). `label` names it in problems (e.g. "workshop.yaml").
 */
export function readYaml(
  file: string,
  parseYaml: ParseYaml,
  problems: string[],
  label = path.basename(file),
): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${label}: cannot be read`);
    return null;
  }
  try {
    const value: unknown = parseYaml(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${label} must hold a mapping`);
      return null;
    }
    return value as Record<string, unknown>;
  } catch (error) {
    problems.push(`${label} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

export function asObject(value: unknown, where: string, problems: string[]): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where} must be a mapping`);
    return null;
  }
  return value as Record<string, unknown>;
}

export function asList(value: unknown, where: string, problems: string[]): unknown[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list`);
    return null;
  }
  return value;
}

export function optionalString(value: unknown, where: string, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  problems.push(`${where} must be text`);
  return null;
}

export function optionalBoolean(value: unknown, where: string, problems: string[]): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value;
  problems.push(`${where} must be true or false`);
  return null;
}

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `file` with its links resolved, when that is inside `root` (itself resolved);
 * null otherwise: a link may not lead a reader out of the workshop's folder.
 */
export function confined(root: string, file: string): string | null {
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(file);
    return real === realRoot || real.startsWith(`${realRoot}${path.sep}`) ? real : null;
  } catch {
    return null;
  }
}

/** A page's title from its file name, as Educates' classic renderer makes one: 01-first-steps → 01 First Steps. */
export function titleFromName(name: string): string {
  const words = (name.split('/').pop() ?? name)
    .replace(/[-_\s]+/g, ' ')
    .trim()
    .split(' ');
  return words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ') || name;
}
