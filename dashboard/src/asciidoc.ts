// AsciiDoc pages (Homeroom's and Educates' classic layouts) through
// Asciidoctor.js. A listing block whose role is an action
// ([source,bash,role=execute], execute-1/2/3/all, copy, copy-and-edit,
// Homeroom's copypaste, and the namespaced terminal:execute & co.) becomes the
// same clickable block as a Markdown fence with that info string. Asciidoctor
// runs in server mode and reads no file outside the workshop folder: every
// include goes through the processor here, which resolves links first, and the
// attributes that would read files (data-uri) or URLs are off and locked.
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { isInside } from '../../common/src/open-inside.js';
import type { BlockToken } from './sections.js';
import { IncludeRefused } from './templates.js';

/** The part of an Asciidoctor block read here. */
interface AdocBlock {
  getRoles(): string[];
  getSource(): string;
  getParent(): unknown;
}

/** The part of Asciidoctor.js used here (the module as require gives it). */
export type AsciidoctorModule = typeof import('@asciidoctor/core');

export interface AsciidocPage {
  text: string;
  /** The page's file, for includes relative to it. */
  file: string;
  workshopDir: string;
  /**
   * Marks section:begin and section:end blocks (their tokens, info being the
   * role) as paired or not: see sections.ts. Called once, with every block
   * whose role is an action, in the order they are written.
   */
  pairSections(tokens: BlockToken[]): void;
  /** The HTML for a block with an action role (its token, once paired), or null when the role is not an action (it stays a listing). */
  actionBlock(token: BlockToken): string | null;
}

export interface RenderedAsciidoc {
  html: string;
  /** The document title (= Title), which the page does not show itself. */
  title: string | null;
  /** Asciidoctor's warnings and errors, for the author. */
  messages: string[];
}

/** Files one page may include, nested ones counted (an include of itself would not end otherwise). */
const MAX_INCLUDES = 100;

/** Roles that are actions; the namespaced ones (terminal:execute, …) are told by their colon. */
const ACTION_ROLE = /^(execute(-[123]|-all)?|copy|copy-and-edit|copypaste)$|^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

export async function renderAsciidoc(asciidoctor: AsciidoctorModule, page: AsciidocPage): Promise<RenderedAsciidoc> {
  const workshopDir = path.resolve(page.workshopDir);
  const workshopReal = realpathSync(workshopDir);
  let includes = 0;
  const registry = asciidoctor.Extensions.create();
  registry.includeProcessor(function () {
    // URLs are left to Asciidoctor, which without allow-uri-read makes them links.
    this.handles((_doc: unknown, target: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(target));
    this.process((_doc, reader, target, attributes) => {
      const from = reader.getCursor().getDirectory() || path.dirname(path.resolve(page.file));
      const file = path.resolve(from, target);
      const shown = path.relative(workshopDir, file);
      if (!isInside(workshopDir, file))
        throw new IncludeRefused(`include::${target}[]: outside the workshop folder, not read`);
      let real: string;
      try {
        real = realpathSync(file);
      } catch {
        throw new IncludeRefused(`include::${target}[]: ${shown} does not exist`);
      }
      if (!isInside(workshopReal, real))
        throw new IncludeRefused(`include::${target}[]: links outside the workshop folder, not read`);
      includes += 1;
      if (includes > MAX_INCLUDES)
        throw new IncludeRefused(`more than ${MAX_INCLUDES} includes in one page (does a file include itself?)`);
      reader.pushInclude(readFileSync(real, 'utf8'), real, shown, 1, attributes);
    });
  });
  registry.treeProcessor(function () {
    this.process((doc) => {
      // In the order they are written, so that section:begin and section:end pair as in Markdown.
      const blocks: { block: AdocBlock; token: BlockToken }[] = [];
      for (const block of doc.findBy((node) =>
        ['listing', 'literal'].includes(node.getContext()),
      ) as unknown as AdocBlock[]) {
        const role = block.getRoles().find((name) => ACTION_ROLE.test(name));
        if (!role) continue;
        // Homeroom's copypaste is its copy.
        const word = role === 'copypaste' ? 'copy' : role;
        blocks.push({ block, token: { type: 'fence', info: word, content: block.getSource(), level: 0, meta: null } });
      }
      page.pairSections(containerTokens(blocks));
      for (const { block, token } of blocks) {
        const html = page.actionBlock(token);
        if (html === null) continue;
        const parent = block.getParent() as { getBlocks(): unknown[] } | undefined;
        const siblings = parent?.getBlocks();
        const index = siblings?.indexOf(block) ?? -1;
        if (!siblings || index < 0) continue;
        siblings[index] = this.createBlock(parent as never, 'pass', html, {});
      }
      return doc;
    });
  });
  const logger = new asciidoctor.MemoryLogger();
  const load = asciidoctor.load(page.text, {
    safe: 'server',
    base_dir: path.dirname(path.resolve(page.file)),
    extension_registry: registry,
    logger,
    attributes: {
      // Set here, so a page cannot turn them back on.
      'data-uri': null,
      'allow-uri-read': null,
      'attribute-missing': 'skip',
      showtitle: null,
      icons: null,
    },
  } as never);
  // Asciidoctor wraps what a processor throws; the refusal itself is what the author needs.
  const doc = await load.catch((error: unknown) => {
    throw refusalIn(error) ?? error;
  });
  const html = (await doc.convert()) as string;
  const title = doc.getDocumentTitle() as unknown;
  return {
    html,
    title: typeof title === 'string' && title ? title : null,
    messages: logger
      .getMessages()
      .map((message) => `${String(message.getSeverity()).toLowerCase()}: ${message.getText()}`),
  };
}

/**
 * The action blocks as the token stream sections.ts pairs: each at the depth
 * of its container, with a closing token (one level up) wherever the
 * containers between two blocks end, so that a section:begin and a
 * section:end pair only when they are in the same list item, table cell or
 * example block: the HTML of the section is one element around what lies
 * between them.
 */
function containerTokens(blocks: { block: AdocBlock; token: BlockToken }[]): BlockToken[] {
  const tokens: BlockToken[] = [];
  let previous: unknown[] = [];
  for (const { block, token } of blocks) {
    const containers = ancestors(block);
    let common = 0;
    while (common < previous.length && common < containers.length && previous[common] === containers[common]) common++;
    if (common < previous.length) tokens.push({ type: 'close', info: '', content: '', level: common, meta: null });
    token.level = containers.length;
    tokens.push(token);
    previous = containers;
  }
  return tokens;
}

/** The blocks holding `block`, the document first. */
function ancestors(block: AdocBlock): unknown[] {
  const chain: unknown[] = [];
  for (let at = block.getParent() as AdocBlock | undefined; at; at = at.getParent() as AdocBlock | undefined) {
    chain.unshift(at);
  }
  return chain;
}

function refusalIn(error: unknown): IncludeRefused | null {
  for (let at = error, depth = 0; at && depth < 5; at = (at as { cause?: unknown }).cause, depth += 1) {
    if (at instanceof IncludeRefused) return at;
  }
  return null;
}
