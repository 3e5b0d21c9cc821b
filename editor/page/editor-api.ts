// What the editor offers the pages that hold it (the dashboard's Editor tab and
// its editor:* actions, the stand-alone <prefix>/editor/ page): the contract
// between the editor bundle, loaded when first needed, and its callers.
import type { FileClient } from '../../terminal-server/page/file-client.js';

/** A file's text and selection (offsets into the text), as an editor:* action sees and changes them. */
export interface TextState {
  text: string;
  selection: { from: number; to: number } | null;
}

/** An edit an action makes: the new state, or an Error whose message says why nothing changed. */
export type TextChange = (state: TextState) => TextState;

export interface EditorApi {
  /** The file API client the editor uses (copy, rename, delete go through it). */
  readonly files: FileClient;
  /**
   * Opens a file in a tab (made when needed) and shows it, at `line` (1-based) when given;
   * `create`: a file that does not exist is created empty first.
   */
  open(path: string, options?: { line?: number; create?: boolean }): Promise<void>;
  /**
   * Changes a file's text as `change` says, in its editor tab (opened when needed, so the
   * attendee sees the change and can undo it), and saves it. `create`: a file that does
   * not exist starts empty. Rejects with an Error for the attendee (a pattern that
   * matches nothing, a file that cannot be written), the file on disk as it was.
   */
  change(path: string, change: TextChange, options?: { create?: boolean }): Promise<void>;
  /**
   * Closes a file's tab; unsaved edits are asked about first. False when the attendee chose
   * to keep them (the tab stays open); true when it closed or was not open.
   */
  close(path: string): Promise<boolean>;
  /** A file was renamed or deleted by an action: its tab follows (or closes). */
  moved(from: string, to: string | null): void;
}
