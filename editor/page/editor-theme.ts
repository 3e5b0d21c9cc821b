// The editor's colours and font size, from the terminals' settings (one store,
// terminal-server/page/settings.ts): the same theme names, the terminal's
// background and foreground, the same font size.
import { defaultHighlightStyle, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import type { Extension } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { type TerminalSettings, THEMES, type ThemeName } from '../../terminal-server/page/settings.js';

/** Token colours for dark backgrounds (CodeMirror's default set is for light ones). */
function darkHighlight(strong: boolean): HighlightStyle {
  // High contrast: the brightest of each colour (7:1 or more on black).
  const c = strong
    ? { keyword: '#ff8cff', string: '#99ff99', number: '#ffff99', comment: '#c0c0c0', name: '#99ffff', type: '#b3ccff' }
    : {
        keyword: '#c678dd',
        string: '#98c379',
        number: '#d19a66',
        comment: '#8b949e',
        name: '#61afef',
        type: '#e5c07b',
      };
  return HighlightStyle.define([
    { tag: [tags.keyword, tags.operatorKeyword, tags.controlKeyword, tags.moduleKeyword], color: c.keyword },
    { tag: [tags.string, tags.special(tags.string), tags.regexp, tags.attributeValue], color: c.string },
    { tag: [tags.number, tags.bool, tags.null, tags.atom], color: c.number },
    { tag: [tags.comment, tags.lineComment, tags.blockComment, tags.meta], color: c.comment, fontStyle: 'italic' },
    {
      tag: [tags.function(tags.variableName), tags.propertyName, tags.definition(tags.variableName), tags.tagName],
      color: c.name,
    },
    { tag: [tags.typeName, tags.className, tags.attributeName], color: c.type },
    { tag: tags.heading, fontWeight: 'bold', color: c.name },
    { tag: tags.emphasis, fontStyle: 'italic' },
    { tag: tags.strong, fontWeight: 'bold' },
    { tag: tags.link, textDecoration: 'underline' },
    { tag: tags.invalid, color: '#ff6b6b' },
  ]);
}

const highlights: Record<ThemeName, Extension> = {
  dark: syntaxHighlighting(darkHighlight(false)),
  light: syntaxHighlighting(defaultHighlightStyle),
  'high-contrast': syntaxHighlighting(darkHighlight(true)),
};

/** The editor's look for the settings: colours of the terminals' theme, their font size. */
export function editorTheme(settings: TerminalSettings): Extension {
  const { theme } = THEMES[settings.theme];
  const dark = settings.theme !== 'light';
  const background = theme.background ?? '#000000';
  const foreground = theme.foreground ?? '#ffffff';
  const gutter = dark ? '#161b22' : '#f6f8fa';
  return [
    EditorView.theme(
      {
        '&': { color: foreground, backgroundColor: background, fontSize: `${settings.fontSize}px`, height: '100%' },
        '.cm-content': { caretColor: theme.cursor ?? foreground },
        '.cm-cursor, .cm-dropCursor': { borderLeftColor: theme.cursor ?? foreground },
        '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection':
          { backgroundColor: theme.selectionBackground ?? (dark ? '#264f78' : '#b6d7ff') },
        '.cm-gutters': { backgroundColor: gutter, color: dark ? '#8b949e' : '#57606a', border: 'none' },
        '.cm-activeLine': { backgroundColor: dark ? '#ffffff0f' : '#0000000a' },
        '.cm-activeLineGutter': { backgroundColor: dark ? '#ffffff14' : '#0000000f' },
        '.cm-panels': { backgroundColor: gutter, color: foreground },
        '.cm-searchMatch': { outline: `1px solid ${dark ? '#ffff00' : '#9a6700'}` },
        '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace' },
      },
      { dark },
    ),
    highlights[settings.theme],
  ];
}
