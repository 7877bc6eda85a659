// Hashing a whole file for intake: SHA-256 through one open descriptor, with fstat before and after
// that must agree, and the file identity that binds the two (queue/file-identity.ts).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fileIdentity, mtimeMsOf, sameFile, type FileStamp } from '../queue/file-identity.js';

export interface HashedFile {
  sha256: string;
  /** See queue/file-identity.ts; null when the file system cannot vouch for the bytes. */
  identity: string | null;
  size: number;
  mtimeMs: number;
}

/**
 * Hashes a file through one open descriptor, fstat before and after: 'changed' when the two differ
 * (it was written while being read). `nowMs` is the wall clock, which file times come from.
 */
export async function hashFile(path: string, nowMs = Date.now()): Promise<HashedFile | 'changed'> {
  const fh = await open(path, 'r');
  try {
    const before = await fh.stat({ bigint: true });
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(1024 * 1024, Number(before.size))));
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return hashed(hash.digest('hex'), before, await fh.stat({ bigint: true }), nowMs);
  } finally {
    await fh.close();
  }
}

/** The result of a hash taken between two fstat calls: 'changed' when they disagree. */
function hashed(sha256: string, before: FileStamp, after: FileStamp, nowMs: number): HashedFile | 'changed' {
  if (!sameFile(before, after)) return 'changed';
  return { sha256, identity: fileIdentity(sha256, after, nowMs), size: Number(after.size), mtimeMs: mtimeMsOf(after) };
}
