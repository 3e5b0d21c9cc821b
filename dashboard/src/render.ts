// Workshop pages to HTML, on the server. A page's text goes through Hugo's
// shortcodes (shortcodes.ts), Liquid (templates.ts; for the classic layouts),
// %name% variables, then Markdown (CommonMark with tables, strikethrough,
// autolinks and heading anchors, by markdown-it) or AsciiDoc (asciidoc.ts);
// code is highlighted by highlight.js, action blocks become elements the
// page's script wires up, and the whole result is sanitised: authors are
// trusted, but a stray tag or an inline handler must not break the dashboard
// around the page (its CSP allows no inline script).
// Clickable blocks are put in after sanitising, in place of markers no page can
// guess: the sanitiser keeps no data-* attribute, so raw HTML in a page (or in
// a variable's value) can never forge a block that runs something.
import { randomBytes } from 'node:crypto';
import { type Action, type ActionOptions, DEFAULT_OPTIONS, type InputField, toJson } from './actions.js';
import { renderAsciidoc } from './asciidoc.js';
import { escapeHtml } from './escape.js';
import { type ActionFence, type FenceContext, parseFence } from './fences.js';
import type { Libraries } from './libraries.js';
import { type BlockToken, pairSections, sectionMark } from './sections.js';
import { baseUrlFor, expandShortcodes, type Markup, shortcodeProblems } from './shortcodes.js';
import { createLiquid, Placeholders, unknownNamesProblems } from './templates.js';
import { substitute, type Variables } from './variables.js';

/** A check a page declares: what the server may run for it, whatever the page sends. */
export interface DeclaredCheck {
  name: string;
  args: string[];
  timeout: number;
  /** A service that answers for it instead of a program of examiner/tests. */
  url: string | null;
  /** The fields of its form, when it has one: what the page may send with it. */
  inputs: InputField[] | null;
}

export interface RenderedPage {
  html: string;
  checks: DeclaredCheck[];
  /** URLs the page's blocks open in tabs (dashboard:create-dashboard), for the frame-src of the dashboard. */
  frames: string[];
  /** What is wrong with the page's blocks (each also noted in its place), for the author's banner. */
  notes: string[];
  /** What the author should know about this page (unknown variables, AsciiDoc warnings). */
  problems: string[];
  /** An AsciiDoc page's own title (= Title), which its HTML leaves out. */
  title: string | null;
}

/** One page's text, and how to read it. */
export interface PageText {
  name: string;
  text: string;
  markup: Markup;
  /** The page's file: AsciiDoc includes are relative to it. */
  file: string;
  /** Whether Liquid applies (the classic layouts; Hugo's layout has none). */
  liquid: boolean;
}

export interface RenderOptions extends Omit<FenceContext, 'parseYaml'> {
  variables: Variables;
  /** The shells' environment, for ENV_<name>. */
  env: Readonly<Record<string, string>>;
  /** Every page, to tell links between pages from links to files beside them. */
  pageNames: ReadonlySet<string>;
  /** Where each page's relative links start, under content/ (see PageSource.base); default <page>.md. */
  pageBases?: ReadonlyMap<string, string>;
  /** The workshop folder: nothing outside it is read. */
  workshopDir: string;
  /** content/ in it, where {% include %} looks first. */
  contentDir: string;
}

type RenderEnv = { checks: DeclaredCheck[]; frames: string[]; notes: string[]; blocks: string[]; marker: string };

/** A renderer for the workshop's pages: it holds the libraries, which go once it is dropped. */
export function createRenderer(
  options: RenderOptions,
  libraries: Libraries,
): (page: PageText) => Promise<RenderedPage> {
  const { hljs, MarkdownIt, anchor, sanitizeHtml } = libraries;
  const fenceContext: FenceContext = { ...options, parseYaml: libraries.parseYaml };
  const md = new MarkdownIt({ html: true, linkify: true, typographer: false });
  md.use(anchor, { slugify, tabIndex: false, permalink: anchor.permalink.ariaHidden({ placement: 'after' }) });
  md.core.ruler.push('wt-sections', (state) => {
    pairSections(state.tokens as BlockToken[], sectionNameOf);
  });
  md.renderer.rules.fence = (tokens, idx, _opts, env) => {
    const token = tokens[idx];
    if (!token) return '';
    return renderFence(token as BlockToken, env as RenderEnv);
  };
  md.renderer.rules.code_block = (tokens, idx) => codeBlock(tokens[idx]?.content ?? '', '');
  const liquid = createLiquid({
    liquidjs: libraries.liquidjs,
    variables: options.variables,
    env: options.env,
    contentDir: options.contentDir,
    workshopDir: options.workshopDir,
  });

  function sectionNameOf(body: string): string | null {
    try {
      const fields = libraries.parseYaml(body) as Record<string, unknown> | null;
      const name = fields?.name;
      return typeof name === 'string' || typeof name === 'number' ? String(name) : '*';
    } catch {
      return null;
    }
  }

  function renderFence(token: BlockToken, env: RenderEnv): string {
    const { info, content: body } = token;
    const fence = parseFence(info, body, fenceContext);
    const mark = sectionMark(token);
    if (mark && 'sectionProblem' in mark && fence.kind === 'action') {
      return unknownBlock(env, mark.sectionProblem, body);
    }
    switch (fence.kind) {
      case 'code':
        return codeBlock(body, fence.lang);
      case 'unknown':
        return unknownBlock(env, fence.note, body);
      case 'action': {
        const { action } = fence;
        if (action.type === 'section-begin' || action.type === 'section-end') {
          const id = `wt-section-${mark && 'section' in mark ? mark.section.id : 0}`;
          const paired = { ...action, body: id };
          if (paired.type === 'section-end') {
            return placeBlock(env, `</div>\n${actionBlock(paired, fence.label, '', fence.options, { hidden: true })}`);
          }
          const attributes = `class="wt-section-body" id="${id}" data-section="${escapeHtml(paired.name)}"`;
          return placeBlock(
            env,
            `${actionBlock(paired, fence.label, describe(fence), fence.options)}<div ${attributes}${paired.open ? '' : ' hidden'}>\n`,
          );
        }
        if (action.type === 'create-dashboard' && action.url) env.frames.push(action.url);
        const shown =
          action.type === 'unavailable'
            ? `<p class="wt-action-note">${escapeHtml(action.reason)}</p>`
            : fence.description !== null || !fence.shown
              ? describe(fence)
              : codeBlock(fence.shown, fence.lang);
        // Where the block says how it went (an upload's progress, why an edit could not be made).
        const inner =
          action.type === 'upload' ||
          action.type === 'copy-file' ||
          action.type === 'download' ||
          action.type.startsWith('editor-')
            ? `${shown}<p class="wt-action-status" role="status"></p>`
            : shown;
        return placeBlock(env, actionBlock(action, fence.label, inner, fence.options));
      }
      case 'check': {
        const { name, args, inputs } = fence.action;
        env.checks.push({ name, args, timeout: fence.timeout, url: fence.url, inputs: inputs?.fields ?? null });
        const prompt = inputs ? 'Not checked yet: fill in the form' : 'Not checked yet: click to check';
        return placeBlock(
          env,
          actionBlock(
            fence.action,
            fence.label,
            `${describe(fence)}<p class="wt-check-status" role="status">${prompt}</p><pre class="wt-check-output"></pre>`,
            fence.options,
          ),
        );
      }
    }
  }

  function unknownBlock(env: RenderEnv, note: string, body: string): string {
    env.notes.push(note);
    return `<div class="wt-unknown-action"><p class="wt-author-note">Note for the workshop author: ${escapeHtml(note)}</p>${codeBlock(body, '')}</div>\n`;
  }

  function codeBlock(text: string, lang: string): string {
    const body = text.replace(/\n$/, '');
    const language = lang && hljs.getLanguage(lang) ? lang : '';
    const code = language ? hljs.highlight(body, { language, ignoreIllegals: true }).value : escapeHtml(body);
    return `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${code}</code></pre>\n`;
  }

  const allowedTags = [...sanitizeHtml.defaults.allowedTags, ...MORE_TAGS];
  return async (page) => {
    // Chosen after the page is written, so nothing in it can contain the markers.
    const env: RenderEnv = {
      checks: [],
      frames: [],
      notes: [],
      blocks: [],
      marker: `wt-block-${randomBytes(16).toString('hex')}-`,
    };
    const held = new Placeholders();
    const copyMarker = `wtcopy${randomBytes(8).toString('hex')}`;
    const problems: string[] = [];
    const unknownParams = new Set<string>();
    const unknownShortcodes = new Set<string>();
    const base = options.pageBases?.get(page.name) ?? `${page.name}.md`;
    let text = expandShortcodes({
      text: page.text,
      markup: page.markup,
      variables: options.variables,
      baseUrl: baseUrlFor(base),
      held,
      copyMarker,
      unknownParams,
      unknownShortcodes,
    });
    problems.push(...shortcodeProblems(page.name, unknownParams, unknownShortcodes));
    if (page.liquid) {
      const unknown = new Set<string>();
      text = liquid({ text, held, copyMarker, unknown });
      problems.push(...unknownNamesProblems(page.name, unknown));
    }
    text = held.restore(substitute(text, options.variables));
    let html: string;
    let title: string | null = null;
    if (page.markup === 'asciidoc') {
      const rendered = await renderAsciidoc(await libraries.asciidoctor(), {
        text,
        file: page.file,
        workshopDir: options.workshopDir,
        pairSections: (tokens) => pairSections(tokens, sectionNameOf),
        actionBlock: (token) => {
          const fence = parseFence(token.info, token.content, fenceContext);
          return fence.kind === 'code' ? null : renderFence(token, env);
        },
      });
      html = rendered.html;
      title = rendered.title;
      problems.push(...rendered.messages.map((message) => `page ${page.name}: AsciiDoc ${message}`));
    } else {
      html = md.render(text, env);
    }
    html = inlineCopies(html, copyMarker, env);
    const safe = sanitize(sanitizeHtml, allowedTags, html, base, options.pageNames, options.appUrl);
    const blocks = new RegExp(`<p>${env.marker}(\\d+)</p>\n?`, 'g');
    const inline = new RegExp(`<code>${env.marker}(\\d+)</code>`, 'g');
    const place = (_all: string, index: string) => env.blocks[Number(index)] ?? '';
    return {
      html: safe.replace(blocks, place).replace(inline, place),
      checks: env.checks,
      frames: env.frames,
      notes: env.notes,
      problems,
      title,
    };
  };
}

/**
 * A code span followed by {{< copy >}} (or {{ copy }}) becomes an inline block
 * that copies its text; the marker anywhere else is dropped. Markdown and
 * AsciiDoc both write a code span as <code>text</code>, its text escaped.
 */
function inlineCopies(html: string, copyMarker: string, env: RenderEnv): string {
  // Inside a clickable block it would be part of a command: never.
  for (const [i, block] of env.blocks.entries()) env.blocks[i] = block.replaceAll(copyMarker, '');
  const spans = new RegExp(`<code>([^<]*)</code>\\s?${copyMarker}`, 'g');
  return html
    .replace(spans, (_all, escaped: string) => {
      const text = unescapeHtml(escaped);
      const action: Action = { type: 'copy', text, edit: false };
      env.blocks.push(
        `<code class="wt-action wt-action-copy wt-inline-copy" role="button" tabindex="0" title="Copy to the clipboard" data-action="${escapeHtml(toJson(action))}">${escapeHtml(text)}</code>`,
      );
      return `<code>${env.marker}${env.blocks.length - 1}</code>`;
    })
    .replaceAll(copyMarker, '');
}

function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower] ?? whole;
  });
}

/** The author's description of a block, shown as written (preformatted, as Educates shows it). */
function describe(fence: Pick<ActionFence, 'description'>): string {
  return fence.description === null ? '' : `<pre class="wt-action-description">${escapeHtml(fence.description)}</pre>`;
}

/** A marker that survives sanitising as it is (a paragraph of plain text), for `block` to replace. */
function placeBlock(env: RenderEnv, block: string): string {
  env.blocks.push(block);
  return `<p>${env.marker}${env.blocks.length - 1}</p>\n`;
}

function actionBlock(
  action: Action,
  label: string,
  inner: string,
  options: ActionOptions,
  force: { hidden?: boolean } = {},
): string {
  // A block the attendee clicks (or presses Enter on); nothing runs until then.
  const kind = action.type === 'examiner' ? 'wt-action wt-check' : `wt-action wt-action-${action.type}`;
  const changed = Object.fromEntries(
    Object.entries(options).filter(([key, value]) => DEFAULT_OPTIONS[key as keyof ActionOptions] !== value),
  );
  const behaviour = Object.keys(changed).length > 0 ? ` data-options="${escapeHtml(toJson(changed))}"` : '';
  const hidden = options.hidden || force.hidden ? ' hidden' : '';
  const section =
    action.type === 'section-begin' ? ` aria-expanded="${action.open}" aria-controls="${escapeHtml(action.body)}"` : '';
  // "Check:" is in the text, not the stylesheet, so the icon before it stays a picture only.
  const shown = action.type === 'examiner' ? `Check: ${label}` : label;
  return `<div class="${kind}" role="button" tabindex="0"${section}${hidden} data-action="${escapeHtml(toJson(action))}"${behaviour}><p class="wt-action-label">${escapeHtml(shown)}</p>${inner}</div>\n`;
}

/** GitHub-style heading ids: lower case, punctuation dropped, spaces to dashes. */
function slugify(text: string): string {
  return (
    text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-') || 'section'
  );
}

/** Tags allowed besides sanitize-html's defaults. */
const MORE_TAGS = [
  'img',
  'h1',
  'h2',
  'details',
  'summary',
  'kbd',
  'del',
  's',
  'ins',
  'mark',
  'sub',
  'sup',
  'span',
  'figure',
  'figcaption',
];

/** FenceContext.appUrl: the path of an app a URL names, or null. */
type AppUrls = (url: string) => string | null;

/** Where a URL in a page points, relative to the dashboard (<prefix>/dashboard/). */
type Target = { page: string; hash: string } | { file: string } | { external: string } | null;

function resolveUrl(url: string, base: string, pageNames: ReadonlySet<string>, apps: AppUrls): Target {
  const trimmed = url.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { external: trimmed };
  // An app of this container (port:8080/…, a session ingress's URL): through the port proxy.
  const app = apps(trimmed);
  if (app !== null) return { external: app };
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//')) {
    return /^(https?|mailto):/i.test(trimmed) ? { external: trimmed } : null;
  }
  if (trimmed.startsWith('/')) return { external: trimmed };
  // Relative to the page's own file under content/; never outside content/.
  let resolved: URL;
  try {
    resolved = new URL(trimmed, `http://content.invalid/content/${base}`);
  } catch {
    return null;
  }
  if (!resolved.pathname.startsWith('/content/')) return null;
  const path = decodeURIComponent(resolved.pathname.slice('/content/'.length));
  const asPage = path.replace(/\.md$/, '').replace(/\/$/, '');
  if (pageNames.has(asPage) && !resolved.search) return { page: asPage, hash: resolved.hash };
  return { file: `content/${resolved.pathname.slice('/content/'.length)}${resolved.search}${resolved.hash}` };
}

function sanitize(
  sanitizeHtml: Libraries['sanitizeHtml'],
  allowedTags: string[],
  html: string,
  base: string,
  pageNames: ReadonlySet<string>,
  apps: AppUrls,
): string {
  return sanitizeHtml(html, {
    allowedTags,
    allowedAttributes: {
      // Named one by one: no data-* (the page's script reads its blocks and links from those).
      '*': ['id', 'class', 'title', 'lang', 'dir', 'role', 'aria-label', 'aria-hidden', 'aria-describedby'],
      a: ['href', 'name', 'target', 'rel', 'data-page'],
      img: ['src', 'alt', 'width', 'height', 'loading'],
      th: ['style', 'colspan', 'rowspan'],
      td: ['style', 'colspan', 'rowspan'],
      ol: ['start'],
      details: ['open'],
    },
    allowedStyles: { th: { 'text-align': [/^(left|right|center)$/] }, td: { 'text-align': [/^(left|right|center)$/] } },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => {
        const href = attribs.href;
        if (href === undefined) return { tagName, attribs };
        const target = resolveUrl(href, base, pageNames, apps);
        const rest = { ...attribs };
        delete rest.href;
        delete rest.target;
        delete rest.rel;
        // Set below for links to pages only, never taken from the page's own HTML.
        delete rest['data-page'];
        if (!target) return { tagName, attribs: rest };
        if ('page' in target) {
          return {
            tagName,
            attribs: {
              ...rest,
              href: `?page=${encodeURIComponent(target.page)}${target.hash}`,
              'data-page': target.page,
            },
          };
        }
        if ('external' in target && target.external.startsWith('#')) {
          return { tagName, attribs: { ...rest, href: target.external } };
        }
        // Anything else opens beside the dashboard, so the terminals stay where they are.
        const url = 'file' in target ? target.file : target.external;
        return { tagName, attribs: { ...rest, href: url, target: '_blank', rel: 'noopener noreferrer' } };
      },
      img: (tagName, attribs) => {
        const src = attribs.src;
        const target = src === undefined || src.startsWith('data:') ? null : resolveUrl(src, base, pageNames, apps);
        const rest = { ...attribs };
        if (src !== undefined && !src.startsWith('data:')) delete rest.src;
        if (target && 'file' in target) rest.src = target.file;
        else if (target && 'external' in target && /^https?:/i.test(target.external)) rest.src = target.external;
        return { tagName, attribs: rest };
      },
    },
  });
}
