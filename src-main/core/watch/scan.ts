// Finds the files under a watched folder, skipping what a device writes as a temporary.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Hidden files and the temp names devices and copy tools use while writing. */
export function isTemporaryName(path: string): boolean {
  const name = basename(path);
  return name.startsWith('.') || name.startsWith('~') || /\.(tmp|part|partial|crdownload|swp)$/i.test(name);
}

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const ent of entries) {
      if (isTemporaryName(ent.name)) continue;
      const full = join(dir, ent.name);
      if (ent.isDirectory()) stack.push(full);
      else if (ent.isFile()) out.push(full);
    }
  }
  return out.sort();
}
