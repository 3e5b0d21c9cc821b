// Where the project's files are, whether running from source (tsx) or from dist/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, found by walking up from this module. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the running module');
    dir = parent;
  }
  return dir;
}

/** The browser bundle built by `npm run build`. */
export function pageAssetsDir(): string {
  return path.join(projectRoot(), 'dist', 'page');
}
