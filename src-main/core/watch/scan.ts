// Finds the files under a watched folder, skipping what a device writes as a temporary.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isTemporaryName } from '../records/inspect.js';

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
