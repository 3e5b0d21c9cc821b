// CPU to render a 40-page workshop at start, as the terminal server does it:
// 30 Markdown pages (Liquid variables, an if, shortcodes, inline copies, a
// table, highlighted and clickable blocks) and 10 AsciiDoc pages (action
// roles, an include), in a fresh process each run so library loading counts.
// The budget (issue 22): under 1 s of CPU for all of it. The bench's dashboard
// step runs it, and opens the same workshop in Chromium (measure-dashboard.ts).
// Alone: npm run build && node --import tsx bench/measure-workshop-render.ts [runs]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../common/src/paths.js';

export const RENDER_BUDGET_MS = 1000;

export const PAGES = {
  markdown: Number(process.env.BENCH_MARKDOWN ?? 30),
  asciidoc: Number(process.env.BENCH_ASCIIDOC ?? 10),
};

function markdownPage(i: number): string {
  const blocks = Array.from(
    { length: 6 },
    (_, j) =>
      `Step ${j}: run it.\n\n\`\`\`execute-${(j % 2) + 1}\nkubectl get pods -n {{ session_namespace }} -l app={{ app_name }}-${j}\n\`\`\`\n`,
  ).join('\n');
  return `# Page ${i}

Welcome {{ username }} to {{ workshop_title }} ({{ app_name | upcase }}).

{{< note >}}
Your namespace is {{< param session_namespace >}}; the console is at %console_url%.
{{< /note >}}

{% if app_name == 'demo' %}This is the demo.{% else %}Not the demo.{% endif %}

| Column | Value |
|---|---|
| one | \`echo one\`{{< copy >}} |
| two | \`echo two\`{{copy}} |

${blocks}
\`\`\`yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings-${i}
data:
  key: value
\`\`\`

\`\`\`terminal:execute
command: echo page ${i}
session: 2
\`\`\`
`;
}

function asciidocPage(i: number): string {
  const blocks = Array.from(
    { length: 6 },
    (_, j) =>
      `Step ${j}:\n\n[source,bash,role=execute-${(j % 2) + 1}]\n----\noc get pods -n {{ project_namespace }} -l app=%app_name%-${j}\n----\n`,
  ).join('\n');
  return `= Page ${i}

Welcome {{ username }}.

NOTE: a note in AsciiDoc.

${blocks}
[source,bash,role=copy]
----
echo copied
----

include::snippets/common.adoc[]
`;
}

/** Writes the workshop into a new temporary folder; returns its workshop/ (remove its parent when done). */
export function makeWorkshop(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-render-bench-'));
  const workshop = path.join(dir, 'workshop');
  mkdirSync(path.join(workshop, 'content', 'snippets'), { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < PAGES.markdown; i++) {
    names.push(`md-${i}`);
    writeFileSync(path.join(workshop, 'content', `md-${i}.md`), markdownPage(i));
  }
  for (let i = 0; i < PAGES.asciidoc; i++) {
    names.push(`adoc-${i}`);
    writeFileSync(path.join(workshop, 'content', `adoc-${i}.adoc`), asciidocPage(i));
  }
  writeFileSync(path.join(workshop, 'content', 'snippets', 'common.adoc'), 'A shared paragraph.\n');
  writeFileSync(
    path.join(workshop, 'workshop.yaml'),
    `name: Render bench\nterminals: split\nmodules:\n  activate: [${names.join(', ')}]\n`,
  );
  writeFileSync(path.join(workshop, 'modules.yaml'), 'config:\n  vars:\n    - name: app_name\n      value: demo\n');
  return workshop;
}

/**
 * The child: plain Node on the compiled server (dist/, as `npm start` runs it),
 * loads and renders the workshop once and prints the CPU it took.
 */
const CHILD = `
const dist = process.argv[1];
const { loadContent } = await import(dist + '/dashboard/src/content.js');
const { builtInVariables } = await import(dist + '/dashboard/src/variables.js');
const { loadConfig } = await import(dist + '/common/src/config.js');
const { createLogger } = await import(dist + '/common/src/log.js');
const env = { USER: 'bench' };
const variables = builtInVariables(loadConfig({ AUTH_USERNAME: '*' }), env);
const start = process.cpuUsage();
const wall = performance.now();
const content = await loadContent({ dir: process.argv[2], variables, env, consoleUrl: '', logger: createLogger('bench', 'error') });
const cpu = process.cpuUsage(start);
const problems = content ? content.workshop.problems : ['no workshop'];
if (problems.length > 0) throw new Error('the bench workshop did not render cleanly: ' + problems.join('; '));
process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall, pages: content.pages.size }) + '\\n');
`;

export interface WorkshopRenderResults {
  pages: typeof PAGES;
  runs: number;
  cpuMs: { min: number; median: number; max: number };
  budgetMs: number;
  wallMs: number[];
}

/** Loads and renders `workshop` (see makeWorkshop) `runs` times, each in a fresh process on dist/. */
export function measureWorkshopRender(runs: number, workshop: string): WorkshopRenderResults {
  const dist = path.join(projectRoot(), 'dist');
  const results = Array.from({ length: runs }, () =>
    JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, dist, workshop], { encoding: 'utf8' }),
    ),
  ) as { cpuMs: number; wallMs: number }[];
  const cpu = results.map((r) => r.cpuMs).sort((a, b) => a - b);
  return {
    pages: PAGES,
    runs,
    cpuMs: {
      min: cpu[0] ?? Number.NaN,
      median: cpu[Math.floor(runs / 2)] ?? Number.NaN,
      max: cpu[runs - 1] ?? Number.NaN,
    },
    budgetMs: RENDER_BUDGET_MS,
    wallMs: results.map((r) => Math.round(r.wallMs)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const workshop = makeWorkshop();
  try {
    console.log(JSON.stringify(measureWorkshopRender(Number(process.argv[2] ?? 5), workshop), null, 2));
  } finally {
    rmSync(path.dirname(workshop), { recursive: true, force: true });
  }
}
