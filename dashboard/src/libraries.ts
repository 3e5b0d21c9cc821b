// The libraries that turn the workshop folder into pages: YAML, Liquid,
// Markdown, AsciiDoc (loaded only for a workshop with AsciiDoc pages),
// highlighting (every language highlight.js knows) and sanitising. The workshop
// is read and rendered once, at start, and they are needed only then: they
// are loaded for that, with require, and dropped from require's cache when it
// is done, so that their code and data (over 20 MB of the terminal server's
// memory) are collected rather than kept for the life of the process.
import { createRequire } from 'node:module';
import type hljs from 'highlight.js';
import type * as liquidjs from 'liquidjs';
import type MarkdownIt from 'markdown-it';
import type anchor from 'markdown-it-anchor';
import type sanitizeHtml from 'sanitize-html';
import type * as yaml from 'yaml';
import type { AsciidoctorModule } from './asciidoc.js';

export interface Libraries {
  parseYaml: typeof yaml.parse;
  hljs: typeof hljs;
  MarkdownIt: typeof MarkdownIt;
  anchor: typeof anchor;
  sanitizeHtml: typeof sanitizeHtml;
  liquidjs: typeof liquidjs;
  /**
   * Asciidoctor.js, loaded on first use (a workshop with AsciiDoc pages). Its
   * ES modules, unlike its one-file CommonJS build, load in about 50 ms of CPU
   * instead of 400 (measured here), which keeps a 40-page workshop within its
   * budget; they stay loaded (about 3 MB of heap), as ES modules cannot be let go.
   */
  asciidoctor(): Promise<AsciidoctorModule>;
}

/** Runs `use` with the libraries; once it has settled, nothing holds them any more. */
export async function withLibraries<T>(use: (libraries: Libraries) => Promise<T>): Promise<T> {
  // A require of its own: the module it belongs to lists what it loaded, and goes with it.
  const require = createRequire(import.meta.url);
  const before = new Set(Object.keys(require.cache));
  let asciidoctor: Promise<AsciidoctorModule> | null = null;
  try {
    return await use({
      parseYaml: (require('yaml') as typeof yaml).parse,
      hljs: require('highlight.js') as typeof hljs,
      MarkdownIt: require('markdown-it') as typeof MarkdownIt,
      anchor: require('markdown-it-anchor') as typeof anchor,
      sanitizeHtml: require('sanitize-html') as typeof sanitizeHtml,
      liquidjs: require('liquidjs') as typeof liquidjs,
      asciidoctor: () => {
        asciidoctor ??= import('@asciidoctor/core');
        return asciidoctor;
      },
    });
  } finally {
    // Only what was loaded here: a module something else had loaded before stays.
    for (const key of Object.keys(require.cache)) if (!before.has(key)) delete require.cache[key];
  }
}
