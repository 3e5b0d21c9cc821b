// Workshop pages to HTML, on the server: variables substituted, Markdown
// (CommonMark with tables, strikethrough, autolinks and heading anchors)
// rendered by markdown-it, code highlighted by highlight.js, action blocks
// turned into elements the page's script wires up, and the whole result
// sanitised: authors are trusted, but a stray tag or an inline handler must
// not break the dashboard around the page (its CSP allows no inline script).
// Clickable blocks are put in after sanitising, in place of markers no page can
// guess: the sanitiser keeps no data-* attribute, so raw HTML in a page (or in
// a variable's value) can never forge a block that runs something.
import { randomBytes } from 'node:crypto';
import type { Action } from './actions.js';
import { escapeHtml } from './escape.js';
import { type FenceContext, parseFence } from './fences.js';
import type { Libraries } from './libraries.js';
import { substitute, type Variables } from './variables.js';

/** A check a page declares: what the server may run for it, whatever the page sends. */
export interface DeclaredCheck {
  name: string;
  args: string[];
  timeout: number;
}

export interface RenderedPage {
  html: string;
  checks: DeclaredCheck[];
}

export interface RenderOptions extends Omit<FenceContext, 'parseYaml'> {
  variables: Variables;
  /** Every page, to tell links between pages from links to files beside them. */
  pageNames: ReadonlySet<string>;
  /** Where each page's relative links start, under content/ (see PageSource.base); default <page>.md. */
  pageBases?: ReadonlyMap<string, string>;
}

type RenderEnv = { checks: DeclaredCheck[]; blocks: string[]; marker: string };

/** A renderer for the workshop's pages: it holds the libraries, which go once it is dropped. */
export function createRenderer(
  options: RenderOptions,
  libraries: Libraries,
): (name: string, markdown: string) => RenderedPage {
  const { hljs, MarkdownIt, anchor, sanitizeHtml } = libraries;
  const fenceContext: FenceContext = { ...options, parseYaml: libraries.parseYaml };
  const md = new MarkdownIt({ html: true, linkify: true, typographer: false });
  md.use(anchor, { slugify, tabIndex: false, permalink: anchor.permalink.ariaHidden({ placement: 'after' }) });
  md.renderer.rules.fence = (tokens, idx, _opts, env) => {
    const token = tokens[idx];
    if (!token) return '';
    return renderFence(token.info, token.content, env as RenderEnv);
  };
  md.renderer.rules.code_block = (tokens, idx) => codeBlock(tokens[idx]?.content ?? '', '');

  function renderFence(info: string, body: string, env: RenderEnv): string {
    const fence = parseFence(info, body, fenceContext);
    switch (fence.kind) {
      case 'code':
        return codeBlock(body, fence.lang);
      case 'unknown':
        return `<div class="wt-unknown-action"><p class="wt-author-note">Note for the workshop author: ${escapeHtml(fence.note)}</p>${codeBlock(body, '')}</div>\n`;
      case 'action':
        return placeBlock(
          env,
          actionBlock(fence.action, fence.label, fence.shown ? codeBlock(fence.shown, fence.lang) : ''),
        );
      case 'check': {
        const { name, args } = fence.action;
        env.checks.push({ name, args, timeout: fence.timeout });
        return placeBlock(
          env,
          actionBlock(
            fence.action,
            fence.label,
            '<p class="wt-check-status" role="status">Not checked yet: click to check</p><pre class="wt-check-output"></pre>',
          ),
        );
      }
    }
  }

  function codeBlock(text: string, lang: string): string {
    const body = text.replace(/\n$/, '');
    const language = lang && hljs.getLanguage(lang) ? lang : '';
    const code = language ? hljs.highlight(body, { language, ignoreIllegals: true }).value : escapeHtml(body);
    return `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${code}</code></pre>\n`;
  }

  const allowedTags = [...sanitizeHtml.defaults.allowedTags, ...MORE_TAGS];
  return (name, markdown) => {
    // Chosen after the page is written, so nothing in it can contain the marker.
    const env: RenderEnv = { checks: [], blocks: [], marker: `wt-block-${randomBytes(16).toString('hex')}-` };
    const html = sanitize(
      sanitizeHtml,
      allowedTags,
      md.render(substitute(markdown, options.variables), env),
      options.pageBases?.get(name) ?? `${name}.md`,
      options.pageNames,
    );
    const pattern = new RegExp(`<p>${env.marker}(\\d+)</p>\n?`, 'g');
    return {
      html: html.replace(pattern, (_all, index: string) => env.blocks[Number(index)] ?? ''),
      checks: env.checks,
    };
  };
}

/** A marker that survives sanitising as it is (a paragraph of plain text), for `block` to replace. */
function placeBlock(env: RenderEnv, block: string): string {
  env.blocks.push(block);
  return `<p>${env.marker}${env.blocks.length - 1}</p>\n`;
}

function actionBlock(action: Action, label: string, inner: string): string {
  // A block the attendee clicks (or presses Enter on); nothing runs until then.
  const kind = action.type === 'examiner' ? 'wt-action wt-check' : `wt-action wt-action-${action.type}`;
  const json = JSON.stringify(action, (_key, value) => (value === Number.POSITIVE_INFINITY ? null : value));
  // "Check:" is in the text, not the stylesheet, so the icon before it stays a picture only.
  const shown = action.type === 'examiner' ? `Check: ${label}` : label;
  return `<div class="${kind}" role="button" tabindex="0" data-action="${escapeHtml(json)}"><p class="wt-action-label">${escapeHtml(shown)}</p>${inner}</div>\n`;
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

/** Where a URL in a page points, relative to the dashboard (<prefix>/dashboard/). */
type Target = { page: string; hash: string } | { file: string } | { external: string } | null;

function resolveUrl(url: string, base: string, pageNames: ReadonlySet<string>): Target {
  const trimmed = url.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { external: trimmed };
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
        const target = resolveUrl(href, base, pageNames);
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
        const target = src === undefined || src.startsWith('data:') ? null : resolveUrl(src, base, pageNames);
        const rest = { ...attribs };
        if (src !== undefined && !src.startsWith('data:')) delete rest.src;
        if (target && 'file' in target) rest.src = target.file;
        else if (target && 'external' in target && /^https?:/i.test(target.external)) rest.src = target.external;
        return { tagName, attribs: rest };
      },
    },
  });
}
