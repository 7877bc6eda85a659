// One-level listings of a folder store, the folder equivalent of an S3 delimiter listing: the
// sub-folders and files directly under a key prefix. Hidden names (temp files, metadata) are skipped.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, type ObjectInfo, type PrefixListing } from './types.js';

export async function listFolderPrefixes(root: string, prefix: string, delimiter = '/'): Promise<PrefixListing> {
  if (delimiter !== '/') throw new StoreError('bad-input', `a folder store lists by "/" only, not "${delimiter}"`, false);
  // A prefix may end inside a name ("dicom/2024/0"): read its folder and keep the names that match.
  const slash = prefix.lastIndexOf('/');
  const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
  const partial = prefix.slice(slash + 1);
  if (dirKey.split('/').some((p) => p === '.' || p === '..' || p.startsWith('.'))) return { prefixes: [], objects: [] };
  const dir = dirKey ? join(root, ...dirKey.split('/')) : root;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { prefixes: [], objects: [] };
    throw new StoreError('network', `cannot list ${dir}: ${(e as Error).message}`, true);
  }
  const out: PrefixListing = { prefixes: [], objects: [] };
  const base = dirKey ? `${dirKey}/` : '';
  for (const ent of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (ent.name.startsWith('.') || !ent.name.startsWith(partial)) continue;
    if (ent.isDirectory()) out.prefixes.push(`${base}${ent.name}/`);
    else if (ent.isFile()) {
      const s = await stat(join(dir, ent.name)).catch(() => null);
      if (s) out.objects.push({ key: `${base}${ent.name}`, size: s.size, lastModified: s.mtime } satisfies ObjectInfo);
    }
  }
  return out;
}
