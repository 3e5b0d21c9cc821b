// Opening a file that a request names, only if it is inside a folder.
//
// Resolving the path first (realpath) and opening it after leaves a gap: a
// folder on the way can be swapped for a link between the two, and O_NOFOLLOW
// guards the last component only. So the check is made on the file actually
// opened: the kernel's own name for the open descriptor (/proc/self/fd/<fd>),
// which no later rename or link can change for this descriptor.
import type { Stats } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';

/** The file opened is not inside the folder (a link, or a folder swapped while it was being opened). */
export class OutsideFolderError extends Error {
  override name = 'OutsideFolderError';
  constructor(
    /** Where the opened file really is, as the kernel names it. */
    readonly opened: string,
    readonly folder: string,
  ) {
    super(`${opened} is outside ${folder}`);
  }
}

/** True when `file` is `folder` or below it (both absolute, without links). */
export function isInside(folder: string, file: string): boolean {
  return file === folder || file.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

/**
 * Opens `file` with `flags` and checks that what was opened is inside `folder`
 * (resolved here, links and all). Answers the open file, its fstat, and where it
 * really is; throws OutsideFolderError (the file closed) when it is elsewhere,
 * and open's own errors (ENOENT, EACCES, ELOOP…) as they are.
 */
export async function openInside(
  folder: string,
  file: string,
  flags: number,
): Promise<{ handle: FileHandle; stats: Stats; opened: string }> {
  const root = await realpath(folder);
  const handle = await open(file, flags);
  try {
    // Linux names a descriptor's file by its path from the root; " (deleted)" is
    // appended once it is unlinked, which leaves the folder part as it was.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`);
    if (!isInside(root, opened)) throw new OutsideFolderError(opened, root);
    const stats = await handle.stat();
    return { handle, stats, opened };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
