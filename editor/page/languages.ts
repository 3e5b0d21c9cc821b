// Syntax highlighting picked by a file's name. Each language is its own
// dynamic import: esbuild splits it into a chunk of its own, fetched the first
// time a file of that language is opened, so the editor's first load carries
// none of them.
import { type LanguageSupport, StreamLanguage, type StreamParser } from '@codemirror/language';
import type { Extension } from '@codemirror/state';

type Loader = () => Promise<Extension>;

const legacy = (parser: Promise<StreamParser<unknown>>): Promise<Extension> =>
  parser.then((mode) => StreamLanguage.define(mode));

const LOADERS = {
  yaml: () => import('@codemirror/lang-yaml').then((m) => m.yaml()),
  json: () => import('@codemirror/lang-json').then((m) => m.json()),
  shell: () => legacy(import('@codemirror/legacy-modes/mode/shell').then((m) => m.shell as StreamParser<unknown>)),
  python: () => import('@codemirror/lang-python').then((m) => m.python()),
  java: () => import('@codemirror/lang-java').then((m) => m.java()),
  javascript: () => import('@codemirror/lang-javascript').then((m) => m.javascript()),
  jsx: () => import('@codemirror/lang-javascript').then((m) => m.javascript({ jsx: true })),
  typescript: () => import('@codemirror/lang-javascript').then((m) => m.javascript({ typescript: true })),
  tsx: () => import('@codemirror/lang-javascript').then((m) => m.javascript({ typescript: true, jsx: true })),
  go: () => import('@codemirror/lang-go').then((m) => m.go()),
  dockerfile: () =>
    legacy(import('@codemirror/legacy-modes/mode/dockerfile').then((m) => m.dockerFile as StreamParser<unknown>)),
  markdown: () => import('@codemirror/lang-markdown').then((m) => m.markdown()),
  html: () => import('@codemirror/lang-html').then((m) => m.html()),
  css: () => import('@codemirror/lang-css').then((m) => m.css()),
  xml: () => import('@codemirror/lang-xml').then((m) => m.xml()),
  properties: () =>
    legacy(import('@codemirror/legacy-modes/mode/properties').then((m) => m.properties as StreamParser<unknown>)),
} satisfies Record<string, Loader | (() => Promise<LanguageSupport>)>;

export type LanguageName = keyof typeof LOADERS;

const BY_EXTENSION: Record<string, LanguageName> = {
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  jsonc: 'json',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  ksh: 'shell',
  py: 'python',
  pyw: 'python',
  java: 'java',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'jsx',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  go: 'go',
  dockerfile: 'dockerfile',
  containerfile: 'dockerfile',
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  css: 'css',
  xml: 'xml',
  xsd: 'xml',
  xsl: 'xml',
  svg: 'xml',
  pom: 'xml',
  properties: 'properties',
  ini: 'properties',
  conf: 'properties',
  env: 'properties',
};

const BY_NAME: Record<string, LanguageName> = {
  dockerfile: 'dockerfile',
  containerfile: 'dockerfile',
  '.bashrc': 'shell',
  '.bash_profile': 'shell',
  '.profile': 'shell',
  '.zshrc': 'shell',
  '.env': 'properties',
  '.gitconfig': 'properties',
  '.editorconfig': 'properties',
};

/** The language of a file by its name (Dockerfile, Dockerfile.dev, app.yaml, …); null: plain text. */
export function languageOf(path: string): LanguageName | null {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  const known = BY_NAME[name];
  if (known) return known;
  if (name.startsWith('dockerfile.') || name.startsWith('containerfile.') || name.endsWith('.dockerfile')) {
    return 'dockerfile';
  }
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (BY_EXTENSION[name.slice(dot + 1)] ?? null) : null;
}

/** The language's CodeMirror extension, loaded when first asked for. */
export function loadLanguage(name: LanguageName): Promise<Extension> {
  return LOADERS[name]();
}
