// Collapsible sections: a section:begin block and the section:end block that
// closes it become one element holding what lies between them. They are paired
// in the token stream, before rendering, so the two halves are known to be in
// the same container (a begin inside a list item and an end outside it would
// make a section that cannot be one element): by name (unnamed ones are "*"),
// the innermost open one first, as Educates matches them. What cannot be paired
// gets a note for the author in its place; the page around it is unchanged.

/** The part of markdown-it's Token this reads and marks. */
export interface BlockToken {
  type: string;
  info: string;
  content: string;
  level: number;
  meta: unknown;
}

export type SectionMark = { section: { id: number; role: 'begin' | 'end' } } | { sectionProblem: string };

export function sectionMark(token: BlockToken): SectionMark | null {
  const meta = token.meta as Partial<Record<string, unknown>> | null;
  if (meta && ('section' in meta || 'sectionProblem' in meta)) return meta as SectionMark;
  return null;
}

/**
 * Marks the section:begin and section:end fences of `tokens` (in place, in
 * their meta): paired ones with a shared id, the others with a problem.
 * `nameOf` reads a block's name (null when its YAML is bad: the block's own
 * note says so, and it takes no part in pairing).
 */
export function pairSections(tokens: BlockToken[], nameOf: (body: string) => string | null): void {
  const open: { token: BlockToken; name: string }[] = [];
  let next = 0;
  const unpaired = (entry: { token: BlockToken; name: string }, why: string) => {
    entry.token.meta = { sectionProblem: `section:begin${describe(entry.name)} ${why}` };
  };
  for (const token of tokens) {
    // The container of an open begin has closed: it can no longer be paired.
    while (open.length > 0 && token.level < (open.at(-1)?.token.level ?? 0)) {
      unpaired(open.pop() as { token: BlockToken; name: string }, 'has no section:end in the same list or quote');
    }
    if (token.type !== 'fence') continue;
    const word = token.info.trim().split(/\s+/)[0];
    if (word !== 'section:begin' && word !== 'section:end') continue;
    const name = nameOf(token.content);
    if (name === null) continue;
    if (word === 'section:begin') {
      open.push({ token, name });
      continue;
    }
    let index = open.length - 1;
    while (index >= 0 && !(open[index]?.name === name && open[index]?.token.level === token.level)) index--;
    if (index < 0) {
      token.meta = { sectionProblem: `section:end${describe(name)} has no section:begin before it` };
      continue;
    }
    // Sections opened inside this one and never closed cannot be paired now.
    for (const inner of open.splice(index + 1)) unpaired(inner, 'is not closed before its enclosing section ends');
    const begin = open.pop() as { token: BlockToken; name: string };
    const id = next++;
    begin.token.meta = { section: { id, role: 'begin' } };
    token.meta = { section: { id, role: 'end' } };
  }
  for (const entry of open) unpaired(entry, 'has no section:end after it');
}

function describe(name: string): string {
  return name === '*' ? ' (unnamed)' : ` named ${name}`;
}
