// The folder store: a local or mounted disk (NAS, EBS, EFS) with the same key layout as S3.
// Writes go to a temp file in the target folder, are flushed, then linked into place: a reader
// never sees a partial file and an existing object is never overwritten.
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { listFolderPrefixes } from './folder-listing.js';
import { METADATA, StoreError, type ObjectInfo, type ObjectStore, type PrefixListing, type PutOutcome, type PutRequest, type PutResult } from './types.js';

/** Object metadata lives beside the tree, so the tree itself holds only the records. */
const META_DIR = '.medrelay-meta';

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

export class FolderStore implements ObjectStore {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = root;
  }

  private pathOf(key: string): string {
    if (key.split('/').some((p) => p === '' || p === '.' || p === '..' || isHidden(p))) {
      throw new StoreError('bad-input', `key "${key}" cannot be stored in a folder`, false);
    }
    return join(this.root, ...key.split('/'));
  }

  private metaPathOf(key: string): string {
    return join(this.root, META_DIR, ...key.split('/')) + '.json';
  }

  async put(req: PutRequest): Promise<PutResult> {
    const target = this.pathOf(req.key);
    const where = `copy of ${req.source} to ${target}`;
    const tmp = join(dirname(target), `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(target), { recursive: true });
      if ('buffer' in req.data) await writeFile(tmp, req.data.buffer, { flag: 'wx' });
      else await copyFile(req.data.file, tmp, constants.COPYFILE_EXCL);
      const fh = await open(tmp, 'r');
      try { await fh.sync(); } finally { await fh.close(); }
      // Metadata first, so an object never lacks it; not over an existing object's metadata.
      if (!(await stat(target).then(() => true, () => false))) await this.writeMeta(req.key, req.metadata);
      const outcome = await this.linkNoReplace(tmp, target, req);
      req.onProgress?.('buffer' in req.data ? req.data.buffer.length : req.data.size);
      return { outcome };
    } catch (e) {
      if (e instanceof StoreError) throw e;
      const err = e as NodeJS.ErrnoException;
      const retryable = ['EIO', 'ENOSPC', 'ETIMEDOUT', 'EBUSY', 'ESTALE', 'EAGAIN'].includes(err.code ?? '');
      throw new StoreError(retryable ? 'network' : 'internal', `${where} failed: ${err.message}`, true);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  listPrefixes(prefix: string, delimiter: string): Promise<PrefixListing> {
    return listFolderPrefixes(this.root, prefix, delimiter);
  }

  async probe(): Promise<boolean> {
    return stat(this.root).then(() => true, () => false);
  }

  /**
   * link() fails if the target exists, which makes the final step atomic and non-overwriting.
   * An existing object is ours when an earlier attempt of the same job wrote it (its metadata
   * names the job), or, for plain objects, when the bytes are the same.
   */
  private async linkNoReplace(tmp: string, target: string, req: PutRequest): Promise<PutOutcome> {
    try {
      await link(tmp, target);
      return 'written';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const job = req.metadata[METADATA.job];
        if (job && (await this.readMeta(req.key))?.[METADATA.job] === job) return 'already-ours';
        if ((await sha256File(target)) === (await sha256File(tmp))) return 'already-ours';
        throw new StoreError('conflict', `${target} already exists with other content than ${req.source}; not overwritten`, false);
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
      // Shares without hard links (SMB): check, then rename; a race here needs two writers of one key.
      const exists = await stat(target).then(() => true, () => false);
      if (exists) return this.linkNoReplace(tmp, target, req);
      await rename(tmp, target);
      return 'written';
    }
  }

  private async writeMeta(key: string, metadata: Record<string, string>): Promise<void> {
    const p = this.metaPathOf(key);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(metadata));
    await rename(tmp, p);
  }

  private async readMeta(key: string): Promise<Record<string, string> | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPathOf(key), 'utf8')) as Record<string, string>;
    } catch {
      return undefined;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      if (!s.isFile()) return null;
      const metadata = await this.readMeta(key);
      return { key, size: s.size, lastModified: s.mtime, ...(metadata ? { metadata } : {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // A prefix may end inside a name ("dicom/2024/01/0"): walk from its folder, filter by prefix.
    const slash = prefix.lastIndexOf('/');
    const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const start = startKey ? join(this.root, ...startKey.split('/')) : this.root;
    const stack = [start];
    const found: string[] = [];
    while (stack.length) {
      const dir = stack.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new StoreError('network', `cannot list ${dir}: ${(e as Error).message}`, true);
      }
      for (const ent of entries) {
        if (isHidden(ent.name)) continue;
        const full = join(dir, ent.name);
        const key = relative(this.root, full).split(sep).join('/');
        if (ent.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) stack.push(full);
        } else if (ent.isFile() && key.startsWith(prefix)) {
          found.push(key);
        }
      }
    }
    found.sort();
    for (const key of found) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async get(key: string): Promise<{ body: Readable; info: ObjectInfo }> {
    const info = await this.head(key);
    if (!info) throw new StoreError('not-found', `${key} is not in ${this.root}`, false);
    return { body: createReadStream(this.pathOf(key)), info };
  }

  close(): void {}
}
