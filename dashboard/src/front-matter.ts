// A page's front matter: the YAML block between two `---` lines at the very
// top (Hugo's and Homeroom's form), split from the page's text so that the
// renderer gets the text alone. A page without one is all text. A broken block
// is that page's problem: the page is still shown, from the text after it.

export interface FrontMatter {
  title: string | null;
  /** Hugo's ordering: pages with a weight come first, lowest first; 0 is "no weight". */
  weight: number;
  draft: boolean;
  /** Homeroom: the page the exit button leads to, instead of the next in order. */
  nextPage: string | null;
  exitSign: string | null;
  exitLink: string | null;
}

export interface SplitPage {
  fields: FrontMatter;
  /** The page's own text, without the front matter. */
  body: string;
  /** What is wrong with the front matter, for the author; null when nothing is. */
  problem: string | null;
}

const NO_FRONT_MATTER: FrontMatter = {
  title: null,
  weight: 0,
  draft: false,
  nextPage: null,
  exitSign: null,
  exitLink: null,
};

/** A block opened by `---` (YAML) or `+++` (TOML) on the first line, closed by the same line. */
const BLOCK = /^\uFEFF?(---|\+\+\+)[ \t]*\r?\n([\s\S]*?)\r?\n?\1[ \t]*(?:\r?\n|$)/;

export function splitFrontMatter(text: string, parseYaml: (text: string) => unknown): SplitPage {
  const match = BLOCK.exec(text);
  if (!match) {
    // An opening line with no closing one is a mistake an author wants to hear about.
    if (/^\uFEFF?---[ \t]*\r?\n/.test(text) && /^\w[\w-]*:/m.test(text.split('\n').slice(1, 4).join('\n'))) {
      return {
        fields: NO_FRONT_MATTER,
        body: text,
        problem: 'front matter: the block opened by --- on the first line has no closing --- line',
      };
    }
    return { fields: NO_FRONT_MATTER, body: text, problem: null };
  }
  const body = text.slice(match[0].length);
  if (match[1] === '+++') {
    return {
      fields: NO_FRONT_MATTER,
      body,
      problem: 'front matter: TOML (+++) is not read here; write it as YAML between --- lines',
    };
  }
  let value: unknown;
  try {
    value = parseYaml(match[2] ?? '');
  } catch (error) {
    return {
      fields: NO_FRONT_MATTER,
      body,
      problem: `front matter is not valid YAML: ${(error as Error).message.split('\n')[0]?.replace(/:$/, '')}`,
    };
  }
  if (value === null || value === undefined) return { fields: NO_FRONT_MATTER, body, problem: null };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { fields: NO_FRONT_MATTER, body, problem: 'front matter must be a mapping (name: value lines)' };
  }
  const raw = value as Record<string, unknown>;
  const problems: string[] = [];
  const textField = (name: string): string | null => {
    const field = raw[name];
    if (field === undefined || field === null) return null;
    if (typeof field === 'string' || typeof field === 'number') return String(field);
    problems.push(`${name} must be text`);
    return null;
  };
  let weight = 0;
  if (raw.weight !== undefined && raw.weight !== null) {
    if (typeof raw.weight === 'number' && Number.isInteger(raw.weight)) weight = raw.weight;
    else problems.push('weight must be a whole number');
  }
  let draft = false;
  if (raw.draft !== undefined && raw.draft !== null) {
    if (typeof raw.draft === 'boolean') draft = raw.draft;
    else problems.push('draft must be true or false');
  }
  const fields: FrontMatter = {
    title: textField('title'),
    weight,
    draft,
    nextPage: textField('next_page'),
    exitSign: textField('exit_sign'),
    exitLink: textField('exit_link'),
  };
  return { fields, body, problem: problems.length > 0 ? `front matter: ${problems.join('; ')}` : null };
}
