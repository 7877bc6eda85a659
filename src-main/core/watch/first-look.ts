// A one-shot pass's first look at its folders: every file and its version (size, mtime) at one
// moment. The pass takes a file once its version is unchanged a stability window after that look,
// so `agent --once` can take the look before the agent opens its database, store and keys: the
// window then runs while they start, rather than after (bench/README.md).
import { statSync } from 'node:fs';
import type { ResolvedConfig } from '../config/load.js';
import { listFiles } from './scan.js';
import type { FileVersion } from './stability.js';

type WatchedFolder = ResolvedConfig['watch'][number];

export interface FolderLook {
  /** `performance.now()` once every file had been looked at: each file's window starts no earlier. */
  at: number;
  /** Every file found, with its folder and version (null: gone between the listing and its stat). */
  files: { file: string; folder: WatchedFolder; version: FileVersion | null }[];
}

/** A file's size and whole-millisecond modification time now, or null when it cannot be read (gone). */
export function versionOf(path: string): FileVersion | null {
  try {
    const s = statSync(path);
    return { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
  } catch {
    return null;
  }
}

/** Lists the folders and notes each file's version (a folder that is gone lists as empty). */
export async function lookAt(folders: readonly WatchedFolder[]): Promise<FolderLook> {
  const files: FolderLook['files'] = [];
  for (const folder of folders) {
    for (const file of await listFiles(folder.path)) files.push({ file, folder, version: versionOf(file) });
  }
  return { at: performance.now(), files };
}
