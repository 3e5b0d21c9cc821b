// Big pastes into programs that are not reading them: the paste, sending it as
// the page does, and telling when a job holds the terminal.
import { readFileSync } from 'node:fs';
import { splitUtf8 } from '../../common/src/protocol.js';
import { eventually } from './servers.js';
import type { TerminalClient } from './terminal-client.js';

/**
 * About `bytes` of shell commands, one per line; each prints PASTED-n if it
 * ever runs (the terminal's echo of the paste shows PAST''ED-n instead).
 */
export function commandPaste(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `echo PAST''ED-${i}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

/** Sends a paste as the page does: in input frames of at most Limits.inputChunkBytes. */
export function paste(page: TerminalClient, bytes: Uint8Array): void {
  for (const piece of splitUtf8(bytes)) page.type(piece);
}

/** The foreground process group of the terminal whose session leader is `pid` (field 8 of /proc/pid/stat). */
export function foregroundGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
}

/** Waits until the page's shell has started a foreground job (the terminal's foreground group is not its own). */
export function jobStarted(page: TerminalClient): Promise<unknown> {
  return eventually(() => foregroundGroup(page.pid) !== page.pid, 10_000, 'the job to take the terminal');
}

/**
 * Types a marker command (after an interrupt) and waits for its output: the
 * prompt came back. Returns the output after `from`, and how the interrupted
 * job ended ($?: 128 + the signal).
 */
export async function promptBack(page: TerminalClient, from: number): Promise<{ after: string; status: number }> {
  page.type('echo BACK-$((6*7))-$?\r');
  const marker = /BACK-42-(\d+)\r\n/;
  await page.waitFor(() => marker.test(page.text().slice(from)));
  const after = page.text().slice(from);
  return { after, status: Number(marker.exec(after)?.[1]) };
}
