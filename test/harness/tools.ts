// Tests that need a program from outside npm (a browser, vim, ...) say so here.
// Outside CI a missing tool skips the test with a message; with CI set, where
// .ci/run installs every tool, it fails the test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export function findTool(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** True when the tool is there; otherwise skips the test (outside CI) or fails it (in CI). */
export function requireTool(t: TestContext, name: string): boolean {
  if (findTool(name)) return true;
  const message = `${name} is not installed (.ci/run installs it)`;
  if (process.env.CI) assert.fail(message);
  t.skip(message);
  return false;
}
