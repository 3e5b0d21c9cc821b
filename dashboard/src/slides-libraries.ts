// The slide libraries a workshop's slides may ask for, as Educates bundles them:
// reveal.js 3.X, 4.X and 5.X and impress.js 1.X, served beneath the workshop's
// own slides/ (its files first), so `slides/index.html` can load
// `dist/reveal.js` (or `js/reveal.js`, `js/impress.js`) without shipping it.
// They come from npm packages of this project, each version under an alias.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import semver from 'semver';

export type SlidesLibraryName = 'reveal.js' | 'impress.js';

/** The npm packages holding each library, one per major version. */
const PACKAGES: Record<SlidesLibraryName, readonly string[]> = {
  'reveal.js': ['reveal.js-3', 'reveal.js-4', 'reveal.js-5'],
  'impress.js': ['impress.js'],
};

const require = createRequire(import.meta.url);

interface Bundled {
  version: string;
  dir: string;
}

function bundled(name: SlidesLibraryName): Bundled[] {
  return PACKAGES[name].map((pkg) => {
    const manifest = require.resolve(`${pkg}/package.json`);
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    return { version, dir: path.dirname(manifest) };
  });
}

/**
 * The folder of the bundled version that best matches `range` (a version or a
 * semver range such as `4.X`, as Educates reads it), or a problem naming the
 * versions there are.
 */
export function slidesLibrary(
  name: SlidesLibraryName,
  range: string,
): { version: string; dir: string } | { problem: string } {
  const versions = bundled(name);
  const best = semver.validRange(range)
    ? semver.maxSatisfying(
        versions.map((v) => v.version),
        range,
      )
    : null;
  const found = versions.find((v) => v.version === best);
  if (found) return found;
  return {
    problem: `${name} version ${JSON.stringify(range)}: none of the bundled ones matches (${versions.map((v) => v.version).join(', ')})`,
  };
}
