// One file open in the editor: its CodeMirror view, the version of the file it
// was read at, and what happens when the file on disk and the buffer part ways.
// A save names the version it read, so a file changed since (the shell ran
// `sed -i`, `git checkout`) is never overwritten unasked: the attendee chooses
// to keep theirs or take the file's, and the text not chosen stays one undo
// away in the buffer's history. Nothing is lost silently.

import { autocompletion } from '@codemirror/autocomplete';
import { indentWithTab, isolateHistory } from '@codemirror/commands';
import { Compartment, EditorState, type Extension, type Text } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import type { FileText, ReadOnlyReason } from '../../common/src/protocol.js';
import { FileApiError, type FileClient } from '../../terminal-server/page/file-client.js';
import { icon } from '../../terminal-server/page/icons.js';
import { handleFontSizeKey } from '../../terminal-server/page/settings.js';
import { button, element } from './dom.js';
import { languageOf, loadLanguage } from './languages.js';

const READ_ONLY_MESSAGES: Record<ReadOnlyReason, string> = {
  'too-large': 'This file is larger than the editor opens (5 MB): it is not shown.',
  binary: 'This file is not text: it is not shown.',
  'not-utf8': 'This file is not UTF-8 text: it is not shown, so that saving cannot change its bytes.',
  'not-writable': 'You may not write this file (its permissions): it is open read-only.',
};

export interface OpenFileOptions {
  path: string;
  read: FileText;
  files: FileClient;
  /** The look (theme and font size) for now; later ones come through `restyle`. */
  look: Extension;
  /** Called when the unsaved marker or the message bar may have changed. */
  onChange: () => void;
  /** Ctrl/Cmd+S. */
  onSave: () => void;
}

/** The smallest single change turning `before` into `after` (null when they are equal): undo then undoes just it. */
export function minimalChange(before: string, after: string): { from: number; to: number; insert: string } | null {
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  if (start === before.length && start === after.length) return null;
  let end = 0;
  while (
    end < shorter - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) {
    end++;
  }
  return { from: start, to: before.length - end, insert: after.slice(start, after.length - end) };
}

/** CRLF for a file whose every line break is one (Enter then writes CRLF too), else LF. */
function lineBreakOf(text: string): string {
  return text.includes('\r\n') && !/(^|[^\r])\n/.test(text) ? '\r\n' : '\n';
}

export class OpenFile {
  path: string;
  readonly panel: HTMLElement;
  readonly view: EditorView;
  /** The version of the file the buffer was read or saved at; null when there is no file on disk. */
  version: string | null;
  readOnly: ReadOnlyReason | null;
  private saved: Text;
  private readonly bar: HTMLElement;
  private readonly files: FileClient;
  private readonly look = new Compartment();
  private readonly language = new Compartment();
  private readonly editable = new Compartment();
  private readonly onChange: () => void;
  /** The file as it is on disk, while the attendee has not chosen between it and their edits. */
  private theirs: FileText | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private saving = false;

  constructor(options: OpenFileOptions) {
    this.path = options.path;
    this.files = options.files;
    this.onChange = options.onChange;
    this.version = options.read.version;
    this.readOnly = options.read.readOnly;
    this.panel = element('div', 'wt-editor-file-panel');
    this.panel.setAttribute('role', 'tabpanel');
    this.bar = element('div', 'wt-editor-bar');
    this.bar.hidden = true;
    const host = element('div', 'wt-editor-view');
    this.panel.append(this.bar, host);
    const text = options.read.text ?? '';
    const state = EditorState.create({
      doc: text,
      extensions: [
        // Saved byte for byte: only the file's own line break splits lines, so a lone \r stays a character.
        EditorState.lineSeparator.of(lineBreakOf(text)),
        // Line numbers, undo history, search and replace, go to line (Mod-Alt-g), bracket matching, …
        basicSetup,
        // Completions only when asked for (Ctrl+Space): a list that opens by itself takes the Escape that
        // would let Tab leave the editor, and suggests words, not what a workshop's file needs.
        autocompletion({ activateOnTyping: false }),
        // Tab indents; Escape then Tab leaves the editor (CodeMirror's tab focus mode).
        keymap.of([
          {
            key: 'Mod-s',
            preventDefault: true,
            run: () => {
              options.onSave();
              return true;
            },
          },
          indentWithTab,
        ]),
        EditorView.domEventHandlers({ keydown: (event) => handleFontSizeKey(event) }),
        EditorView.contentAttributes.of({ 'aria-label': `Text of ${this.path}` }),
        this.look.of(options.look),
        this.language.of([]),
        this.editable.of(this.editableExtension()),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) this.onChange();
        }),
      ],
    });
    this.saved = state.doc;
    this.view = new EditorView({ state, parent: host });
    if (this.readOnly) this.message(READ_ONLY_MESSAGES[this.readOnly], 'info');
    const language = languageOf(this.path);
    if (language) {
      void loadLanguage(language).then(
        (extension) => this.view.dispatch({ effects: this.language.reconfigure(extension) }),
        () => {}, // the chunk did not load (offline): the text stays plain
      );
    }
  }

  get name(): string {
    return this.path.split('/').pop() ?? this.path;
  }

  /** Whether the buffer has edits the file on disk does not have. */
  get dirty(): boolean {
    return !this.view.state.doc.eq(this.saved);
  }

  /** The text as the file has it: with the file's own line breaks (CodeMirror's doc counts one as one). */
  get text(): string {
    return this.view.state.sliceDoc();
  }

  /** The selection as offsets into `text`. */
  get selection(): { from: number; to: number } {
    const { from, to } = this.view.state.selection.main;
    return { from: this.toOffset(from), to: this.toOffset(to) };
  }

  /** A position of the doc as an offset into `text` (they differ where a line break is CRLF). */
  private toOffset(pos: number): number {
    return this.view.state.lineBreak === '\r\n' ? pos + this.view.state.doc.lineAt(pos).number - 1 : pos;
  }

  /** An offset into `text` as a position of the doc; an offset inside a CRLF counts as before it. */
  private toPosition(text: string, offset: number): number {
    if (this.view.state.lineBreak !== '\r\n') return offset;
    let breaks = 0;
    for (let at = text.indexOf('\r\n'); at !== -1 && at < offset; at = text.indexOf('\r\n', at + 2)) breaks++;
    // An offset between a CR and its LF has counted that break whole: it lands before it.
    return offset - breaks;
  }

  /** Whether the attendee has a choice to make (keep mine / take theirs). */
  get conflicted(): boolean {
    return this.theirs !== null;
  }

  restyle(look: Extension): void {
    this.view.dispatch({ effects: this.look.reconfigure(look) });
  }

  /** Shows a line (1-based) in the middle of the view, with the cursor at its start. */
  goToLine(line: number): void {
    const doc = this.view.state.doc;
    const at = doc.line(Math.min(Math.max(1, Math.floor(line)), doc.lines)).from;
    this.view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'center' }) });
  }

  /**
   * Makes the buffer `text` by one transaction of the smallest changed range (so
   * undo takes back just it), scrolled into view; `selection` as offsets into `text`.
   */
  replace(text: string, selection: { from: number; to: number } | null = null): void {
    const before = this.text;
    const found = minimalChange(before, text);
    const change = found && {
      from: this.toPosition(before, found.from),
      to: this.toPosition(before, found.to),
      insert: found.insert,
    };
    const position = (n: number) => this.toPosition(text, Math.min(Math.max(0, Math.floor(n)), text.length));
    const anchor = selection ? position(selection.from) : found ? position(found.from + found.insert.length) : null;
    this.view.dispatch({
      ...(change ? { changes: change } : {}),
      ...(anchor !== null ? { selection: { anchor, head: selection ? position(selection.to) : anchor } } : {}),
      ...(anchor !== null ? { effects: EditorView.scrollIntoView(anchor, { y: 'center' }) } : {}),
      annotations: isolateHistory.of('full'),
      userEvent: 'input.replace',
    });
  }

  /** Saves the buffer over the version it read; rejects (with a message for the attendee) when it cannot. */
  save(): Promise<void> {
    return this.serially(() => this.saveNow());
  }

  private async saveNow(): Promise<void> {
    if (this.readOnly) throw new Error(`${this.path} is open read-only: ${READ_ONLY_MESSAGES[this.readOnly]}`);
    if (this.theirs) throw new Error(`${this.path} changed on disk: choose Keep mine or Take theirs first`);
    const doc = this.view.state.doc;
    this.saving = true;
    try {
      const written = await this.files.write(
        this.path,
        doc.sliceString(0, doc.length, this.view.state.lineBreak),
        this.version ?? 'new',
      );
      this.version = written.version;
      this.saved = doc;
      this.clearMessage();
    } catch (error) {
      if (error instanceof FileApiError && (error.code === 'changed' || error.code === 'exists')) {
        await this.offerChoice();
        throw new Error(`${this.path} changed on disk since it was opened: choose Keep mine or Take theirs`);
      }
      const reason = `${this.path} was not saved: ${(error as Error).message}`;
      this.message(reason, 'error');
      throw new Error(reason);
    } finally {
      this.saving = false;
      this.onChange();
    }
  }

  /** Looks at the file on disk: a change is taken in when the buffer has no edits, else the attendee chooses. */
  checkDisk(): Promise<void> {
    if (this.saving || this.theirs) return Promise.resolve();
    return this.serially(async () => {
      if (this.theirs) return;
      const now = await this.files.stat(this.path).catch(() => undefined);
      if (now === undefined) return; // the server did not answer: look again next time
      if (now === null) {
        if (this.version !== null) {
          this.version = null;
          this.message(`${this.path} was deleted on disk. Saving writes it again.`, 'info');
        }
        return;
      }
      if (now.version === this.version) return;
      if (this.dirty) return this.offerChoice();
      const fresh = await this.files.read(this.path).catch(() => null);
      if (!fresh || this.dirty) return fresh ? this.offerChoice(fresh) : undefined;
      this.takeIn(fresh);
      this.message(
        `${this.path} changed on disk and was read again (Ctrl+Z brings back what was shown before).`,
        'info',
      );
    });
  }

  /** The file on disk changed while the buffer has edits: keep mine or take theirs, both kept until chosen. */
  private async offerChoice(known?: FileText): Promise<void> {
    const theirs =
      known ??
      (await this.files.read(this.path).catch((error: unknown) => {
        if (error instanceof FileApiError && error.status === 404) return null;
        throw error;
      }));
    if (theirs === null) {
      this.version = null;
      this.message(`${this.path} was deleted on disk. Saving writes your text again.`, 'info');
      return;
    }
    this.theirs = theirs;
    this.bar.replaceChildren();
    const text = element('span', 'wt-editor-bar-text');
    text.textContent = `${this.path} was changed on disk (by the shell, or another page) while you had unsaved edits. Both are kept until you choose:`;
    this.bar.append(
      text,
      button('Keep mine', 'wt-editor-keep-mine', () => void this.keepMine().catch(() => {})),
      button('Take theirs', 'wt-editor-take-theirs', () => this.takeTheirs()),
    );
    this.bar.dataset.kind = 'conflict';
    this.bar.setAttribute('role', 'alert');
    this.bar.hidden = false;
    this.onChange();
  }

  /** Writes the buffer over the file's newer version; the file's text stays one undo away. */
  keepMine(): Promise<void> {
    const theirs = this.theirs;
    if (!theirs) return Promise.resolve();
    return this.serially(async () => {
      const mine = this.text;
      this.saving = true;
      try {
        const written = await this.files.write(this.path, mine, theirs.version);
        this.theirs = null;
        // Their text into the history, then mine over it: one Ctrl+Z shows theirs again.
        if (theirs.text !== null) {
          this.replace(theirs.text);
          this.replace(mine);
        }
        this.version = written.version;
        this.saved = this.view.state.doc;
        this.message(`Your text was saved over the file's. Ctrl+Z brings back the file's text.`, 'info');
      } catch (error) {
        this.theirs = null;
        if (error instanceof FileApiError && error.code === 'changed') return this.offerChoice();
        this.message(`${this.path} was not saved: ${(error as Error).message}`, 'error');
        throw error;
      } finally {
        this.saving = false;
        this.onChange();
      }
    });
  }

  /** Shows the file's text instead of the buffer's; the buffer's text stays one undo away. */
  takeTheirs(): void {
    const theirs = this.theirs;
    if (!theirs) return;
    this.theirs = null;
    this.takeIn(theirs);
    this.message(`The file's text is shown. Ctrl+Z brings back yours (unsaved).`, 'info');
  }

  private takeIn(read: FileText): void {
    this.readOnly = read.readOnly;
    if (read.text !== null) this.replace(read.text);
    this.version = read.version;
    this.saved = this.view.state.doc;
    this.view.dispatch({ effects: this.editable.reconfigure(this.editableExtension()) });
    if (this.readOnly) this.message(READ_ONLY_MESSAGES[this.readOnly], 'info');
    this.onChange();
  }

  /** The buffer as the file on disk has it now (after a rename by an action, say). */
  renamed(path: string): void {
    this.path = path;
    this.onChange();
  }

  destroy(): void {
    this.view.destroy();
    this.panel.remove();
  }

  message(text: string, kind: 'info' | 'error'): void {
    const line = element('span', 'wt-editor-bar-text');
    line.textContent = text;
    this.bar.replaceChildren(line);
    if (kind === 'info' && !this.readOnly) {
      const dismiss = button('', 'wt-editor-bar-close', () => this.clearMessage(), 'Dismiss this message');
      dismiss.append(icon('close'));
      this.bar.append(dismiss);
    }
    this.bar.dataset.kind = kind;
    this.bar.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.bar.hidden = false;
  }

  private clearMessage(): void {
    if (this.theirs) return;
    if (this.readOnly) {
      this.message(READ_ONLY_MESSAGES[this.readOnly], 'info');
      return;
    }
    this.bar.hidden = true;
    this.bar.replaceChildren();
  }

  private editableExtension(): Extension {
    return this.readOnly
      ? [EditorState.readOnly.of(true), EditorView.editable.of(this.readOnly === 'not-writable')]
      : [];
  }

  /** One disk operation at a time per file: a poll never reads between a save's write and its answer. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.busy.then(work, work);
    this.busy = next.catch(() => {});
    return next;
  }
}
