// What a click on an editor:* block does: the editor (its tab shown, its bundle
// loaded the first time) opens the file, or makes the change in the file's tab,
// where the attendee sees it and can undo it, and saves it; files are copied,
// renamed and deleted through the editor's file API client. A change that
// cannot be made (a pattern that matches nothing, a file that cannot be written)
// rejects with the reason, and the file on disk stays as it was.

import type { TextChange } from '../../editor/page/editor-api.js';
import type * as Edits from '../../editor/page/edits.js';
import type { FileApiError } from '../../terminal-server/page/file-client.js';
import type { TerminalView } from '../../terminal-server/page/terminal-view.js';
import type { Action, TextEdit } from '../src/actions.js';
import { editorEdits, openEditor } from './editor-tab.js';
import type { Tabs } from './tabs.js';

type EditorAction = Extract<
  Action,
  {
    type:
      | 'editor-open'
      | 'editor-edit'
      | 'editor-folder'
      | 'editor-copy'
      | 'editor-close'
      | 'editor-delete'
      | 'editor-terminal';
  }
>;

export function isEditorAction(action: Action): action is EditorAction {
  return action.type.startsWith('editor-');
}

export async function runEditorAction(action: EditorAction, tabs: Tabs): Promise<void> {
  if (action.type === 'editor-terminal') return runTerminal(action, tabs);
  const editor = await openEditor();
  switch (action.type) {
    case 'editor-open':
      return editor.open(action.file, action.line === null ? {} : { line: action.line });
    case 'editor-edit':
      return editor.change(action.file, textChangeOf(action.edit, await editorEdits()), {
        create: action.create,
      });
    case 'editor-folder': {
      // Its parents too, and one there already is no failure: as mkdir -p (and Educates) do.
      const steps = action.path.split('/');
      for (let i = 1; i <= steps.length; i++) {
        await editor.files.create(steps.slice(0, i).join('/'), 'folder').catch((error: unknown) => {
          // The editor's bundle has its own copy of the client's classes: its errors are known by their name.
          const refusal = error as Partial<FileApiError>;
          if (!(refusal.name === 'FileApiError' && refusal.code === 'exists')) throw error;
        });
      }
      return;
    }
    case 'editor-copy': {
      // Educates replaces a file at the destination: the version read here is the one replaced, no newer one.
      const there = await editor.files.stat(action.to);
      const replace = there ? { replace: there.version } : {};
      if (action.move) {
        await editor.files.rename(action.from, action.to, replace);
        editor.moved(action.from, action.to);
      } else await editor.files.copy(action.from, action.to, replace);
      if (action.open) await editor.open(action.to);
      return;
    }
    case 'editor-close':
      // Kept open with unsaved edits is the attendee's answer, not a failure.
      await editor.close(action.file);
      return;
    case 'editor-delete':
      // The attendee kept unsaved edits of it: the file stays too.
      if (!(await editor.close(action.file))) throw new Error(`${action.file} was kept open with unsaved changes`);
      await editor.files.remove(action.file);
      editor.moved(action.file, null);
      return;
  }
}

/**
 * The change the editor makes for a block (editor/page/edits.ts has what each one does), from
 * the edits of the editor's bundle: the dashboard's own bundle has none of them (nor the YAML library).
 */
export function textChangeOf(edit: TextEdit, edits: typeof Edits): TextChange {
  switch (edit.op) {
    case 'create-file':
      return edits.createFile(edit.text);
    case 'append-lines-to-file':
      return edits.appendLines(edit.text);
    case 'prepend-lines-to-file':
      return edits.prependLines(edit.text);
    case 'insert-lines-before-line':
      return edits.insertLinesBeforeLine(edit.line, edit.text);
    case 'append-lines-after-line':
      return edits.appendLinesAfterLine(edit.line, edit.text);
    case 'insert-lines-before-match':
      return edits.insertLinesBeforeMatch(edit.match, edit.text);
    case 'append-lines-after-match':
      return edits.appendLinesAfterMatch(edit.match, edit.text);
    case 'select-matching-text': {
      const around =
        edit.before === null && edit.after === null ? null : { before: edit.before ?? 0, after: edit.after ?? 0 };
      return edits.selectMatchingText(edit.search, around);
    }
    case 'select-lines-in-range':
      return edits.selectLinesInRange(edit.start, edit.stop);
    case 'delete-lines-in-range':
      return edits.deleteLinesInRange(edit.start, edit.stop);
    case 'replace-lines-in-range':
      return edits.replaceLinesInRange(edit.start, edit.stop, edit.text);
    case 'replace-text-selection':
      return edits.replaceSelection(edit.text);
    case 'delete-text-selection':
      return edits.deleteSelection();
    case 'insert-lines-before-selection':
      return edits.insertLinesBeforeSelection(edit.text);
    case 'append-lines-after-selection':
      return edits.appendLinesAfterSelection(edit.text);
    case 'replace-matching-text':
      return edits.replaceMatchingText(edit.search, edit.replacement, edit.count);
    case 'delete-matching-lines':
      return edits.deleteMatchingLines(edit.match, edit.isRegex, { before: edit.before, after: edit.after });
    case 'set-yaml-value':
      return edits.setYamlValue(edit.path, edit.value);
    case 'add-yaml-item':
      return edits.addYamlItem(edit.path, edit.value);
    case 'insert-yaml-item':
      return edits.insertYamlItem(edit.path, edit.index, edit.value);
    case 'replace-yaml-item':
      return edits.replaceYamlItem(edit.path, edit.value);
    case 'delete-yaml-value':
      return edits.deleteYamlValue(edit.path);
    case 'merge-yaml-values':
      return edits.mergeYamlValues(edit.path, edit.value as Record<string, unknown>);
    case 'select-yaml-path':
      return edits.selectYamlPath(edit.path);
    case 'insert-value-into-yaml':
      return edits.insertValueIntoYaml(edit.path, edit.value);
  }
}

type TerminalAction = Extract<Action, { type: 'editor-terminal' }>;

/** Educates' editor terminals are terminal tabs here: made by the first block that needs one. */
function runTerminal(action: TerminalAction, tabs: Tabs): void {
  const existing = (): TerminalView | null => tabs.terminal(action.session);
  const made = (): TerminalView => {
    const view = existing();
    if (view) return view;
    if (!tabs.add({ name: action.name, session: action.session }, true)) {
      throw new Error(`there is a tab named ${action.name} already, and it is not this terminal`);
    }
    const added = existing();
    if (!added) throw new Error(`the terminal tab ${action.name} could not be made`);
    return added;
  };
  const needed = (): TerminalView => {
    const view = existing();
    if (!view) throw new Error(`there is no terminal tab ${action.name}: an editor:open-terminal block opens it`);
    return view;
  };
  switch (action.op) {
    case 'open':
      made();
      tabs.select(action.session);
      return;
    case 'send': {
      const view = made();
      const keys = action.text.replace(/\r?\n/g, '\r');
      if (action.endl) view.runCommand(keys);
      else view.input(keys);
      tabs.reveal(action.session);
      return;
    }
    case 'interrupt':
      needed().interrupt();
      tabs.reveal(action.session);
      return;
    case 'clear':
      needed().clear();
      return;
    case 'close':
      // Closing one that is not there does nothing, as in Educates.
      tabs.remove(action.name);
      return;
  }
}
