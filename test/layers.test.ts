// Imports run one way (issue 23): the contract (common/src/protocol.ts) at the
// bottom, importing nothing; common on it; the terminal server on common; the
// dashboard above the terminal server, mounted on it by the entry point; the
// auth proxy on common alone, so the proxy and the terminal server never import
// each other. Every import of the shipped code (not the tests', not the bench's)
// is read with TypeScript's own scanner, static, dynamic and type-only alike,
// and checked against these arrows; a wrong one is named with its file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { projectRoot } from '../common/src/paths.js';

type Part =
  | 'contract'
  | 'common'
  | 'terminal-server'
  | 'terminal-page'
  | 'dashboard'
  | 'dashboard-page'
  | 'editor'
  | 'editor-page'
  | 'terminal-entry'
  | 'auth-proxy'
  | 'room'
  | 'room-page'
  | 'supervisor';

/** Which part a file belongs to; the first pattern that matches wins. */
const PARTS: [RegExp, Part][] = [
  [/^common\/src\/protocol\.ts$/, 'contract'],
  [/^common\/src\//, 'common'],
  // The entry point and the mounts it hands the server: the one place the terminal process is put together.
  [/^terminal-server\/src\/(main|mounts)\.ts$/, 'terminal-entry'],
  [/^terminal-server\/src\//, 'terminal-server'],
  [/^terminal-server\/page\//, 'terminal-page'],
  [/^dashboard\/src\//, 'dashboard'],
  [/^dashboard\/page\//, 'dashboard-page'],
  [/^editor\/src\//, 'editor'],
  [/^editor\/page\//, 'editor-page'],
  [/^auth-proxy\/src\//, 'auth-proxy'],
  [/^room\/src\//, 'room'],
  [/^room\/page\//, 'room-page'],
  [/^supervisor\//, 'supervisor'],
];

/** The parts each part may import besides itself. */
const MAY_IMPORT: Record<Part, readonly Part[]> = {
  contract: [],
  common: ['contract'],
  'terminal-server': ['contract', 'common'],
  // A page runs in the browser: the contract is all it shares with the servers.
  'terminal-page': ['contract'],
  dashboard: ['contract', 'common', 'terminal-server'],
  // The dashboard's page holds terminal views; it shares with its server only modules free of Node (esbuild bundles them).
  'dashboard-page': ['contract', 'terminal-page', 'dashboard', 'editor-page'],
  // The editor's page: the file API's client and the terminals' settings are the terminal page's.
  'editor-page': ['contract', 'terminal-page'],
  // Serves the stand-alone editor page and the editor's bundle, mounted like the dashboard.
  editor: ['contract', 'common', 'terminal-server'],
  'terminal-entry': ['contract', 'common', 'terminal-server', 'dashboard', 'editor'],
  'auth-proxy': ['contract', 'common'],
  // The room service (a hub service of its own): it shares the hub login's cookies and checks with the proxy through common.
  room: ['contract', 'common'],
  // The room page: the contract's rows and stream messages, nothing of the servers.
  'room-page': ['contract'],
  // It starts the others: it checks the auth mode's rules and runs the workshop's setup before they start.
  supervisor: ['contract', 'common', 'dashboard', 'auth-proxy'],
};

const FOLDERS = ['common', 'terminal-server', 'auth-proxy', 'dashboard', 'editor', 'room', 'supervisor'];
const root = projectRoot();

interface Arrow {
  /** The importing file, from the project's root. */
  from: string;
  /** As written in the file. */
  specifier: string;
  /** The imported file from the project's root, for a relative import; null for a package or a Node module. */
  to: string | null;
}

function sourceFiles(): string[] {
  return FOLDERS.flatMap((folder) =>
    readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.split(path.sep).includes('node_modules'))
      .map((file) => path.posix.join(folder, file.split(path.sep).join('/'))),
  );
}

function arrowOf(from: string, specifier: string): Arrow {
  const to = specifier.startsWith('.')
    ? path.posix.join(path.posix.dirname(from), specifier).replace(/\.js$/, '.ts')
    : null;
  return { from, specifier, to };
}

function importsOf(file: string): Arrow[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => arrowOf(file, fileName));
}

function partOf(file: string): Part | null {
  return PARTS.find(([pattern]) => pattern.test(file))?.[1] ?? null;
}

function describeArrow(arrow: Arrow): string {
  return `${arrow.from} imports '${arrow.specifier}'`;
}

/** Reads the imports of the code in `files` (paths from the root) and returns the arrows against the rules. */
function wrongArrows(files: readonly string[], read: (file: string) => Arrow[] = importsOf): string[] {
  const wrong: string[] = [];
  for (const file of files) {
    const part = partOf(file);
    if (part === null) {
      wrong.push(`${file} belongs to no part: add it to PARTS in test/layers.test.ts, with the arrows it may take`);
      continue;
    }
    for (const arrow of read(file)) {
      if (arrow.to === null) {
        const builtin = arrow.specifier.startsWith('node:');
        if (part === 'contract') wrong.push(`${describeArrow(arrow)}: the contract imports nothing`);
        else if (builtin && (part === 'terminal-page' || part === 'dashboard-page' || part === 'room-page')) {
          wrong.push(`${describeArrow(arrow)}: a page runs in the browser`);
        } else if (arrow.specifier === 'node-pty' && part !== 'terminal-server') {
          wrong.push(`${describeArrow(arrow)}: only the terminal server knows of ptys`);
        }
        continue;
      }
      const target = partOf(arrow.to);
      if (target === null) wrong.push(`${describeArrow(arrow)}: ${arrow.to} belongs to no part`);
      else if (target !== part && !MAY_IMPORT[part].includes(target)) {
        wrong.push(`${describeArrow(arrow)}: ${part} may not import ${target}`);
      } else if (isAuthMode(arrow.to) && arrow.from !== 'auth-proxy/src/modes/index.ts') {
        wrong.push(`${describeArrow(arrow)}: an auth mode is chosen in modes/index.ts only`);
      }
    }
  }
  return wrong;
}

/** One module per auth mode: the modes never import each other, and the proxy reaches them through modes/index.ts. */
function isAuthMode(file: string): boolean {
  return /^auth-proxy\/src\/modes\/(none|basic|jupyterhub|openshift)\.ts$/.test(file);
}

describe('imports run one way', () => {
  test('every import of the shipped code follows the arrows', () => {
    const files = sourceFiles();
    assert.ok(files.includes('common/src/protocol.ts') && files.includes('terminal-server/src/server.ts'));
    assert.deepEqual(wrongArrows(files), []);
  });

  test('the arrows themselves have no cycle', () => {
    const visiting = new Set<Part>();
    const done = new Set<Part>();
    const visit = (part: Part, trail: Part[]): void => {
      if (done.has(part)) return;
      assert.ok(!visiting.has(part), `a cycle: ${[...trail, part].join(' → ')}`);
      visiting.add(part);
      for (const next of MAY_IMPORT[part]) visit(next, [...trail, part]);
      visiting.delete(part);
      done.add(part);
    };
    for (const part of Object.keys(MAY_IMPORT) as Part[]) visit(part, []);
  });

  test('a wrong arrow is caught: each rule refuses its case', () => {
    const cases: [string, string, RegExp][] = [
      [
        'auth-proxy/src/server.ts',
        '../../terminal-server/src/sessions.js',
        /auth-proxy may not import terminal-server/,
      ],
      ['terminal-server/src/server.ts', '../../auth-proxy/src/server.js', /terminal-server may not import auth-proxy/],
      ['terminal-server/src/server.ts', '../../dashboard/src/server.js', /terminal-server may not import dashboard/],
      ['common/src/config.ts', '../../terminal-server/src/protocol.js', /common may not import terminal-server/],
      ['common/src/protocol.ts', './log.js', /contract may not import common/],
      ['common/src/protocol.ts', 'yaml', /the contract imports nothing/],
      ['terminal-server/page/terminal.ts', 'node:fs', /a page runs in the browser/],
      ['terminal-server/page/terminal.ts', '../../common/src/log.js', /terminal-page may not import common/],
      ['auth-proxy/src/pages.ts', 'node-pty', /only the terminal server knows of ptys/],
      ['auth-proxy/src/modes/basic.ts', './none.js', /chosen in modes\/index\.ts only/],
    ];
    for (const [from, specifier, expected] of cases) {
      const wrong = wrongArrows([from], (file) => [arrowOf(file, specifier)]);
      assert.equal(wrong.length, 1, `${from} → ${specifier}: ${wrong.join('; ')}`);
      assert.match(wrong[0] as string, expected);
    }
    assert.deepEqual(
      wrongArrows(['bench/run.ts'], () => []),
      ['bench/run.ts belongs to no part: add it to PARTS in test/layers.test.ts, with the arrows it may take'],
    );
  });
});
