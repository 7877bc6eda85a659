// Reading small files whole with few allocations and few calls. A file stream allocates a fresh
// 1 MiB buffer per read (and for a 200 KB PDF, three), and each asynchronous call is a thread-pool
// round trip; for intake and the sealing worker, a small file is read in one blocking call into one
// of a few reused buffers.
import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { mtimeMsOf, sameFile } from '../queue/file-identity.js';

const CHUNK = 1024 * 1024;
const spare: Buffer[] = [];

/** A 1 MiB buffer; give it back when done. */
function borrow(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(b: Buffer): void {
  if (spare.length < 4) spare.push(b);
}

/** Below this size, `takeWholeSync` reads a file in one blocking call (well under a millisecond). */
export const WHOLE_READ_MAX = CHUNK - 1;

export interface LentBytes {
  bytes: Buffer;
  /** What fstat said of the open file after the read (the same as before it). */
  stats: BigIntStats;
  /** Gives the buffer back for reuse; the bytes must not be used after. */
  release(): void;
}

/**
 * A small regular file's bytes, read with blocking calls (cheaper than four asynchronous ones at
 * this size) into a reused buffer, when the file has the expected size and modification time and
 * fstat shows no change across the read. 'changed' when it changed meanwhile; null when the caller
 * should take its ordinary path (too large, not a regular file, another version, any error: that
 * path names the problem).
 */
export function takeWholeSync(path: string, version: { size: number; mtimeMs: number }): LentBytes | 'changed' | null {
  if (version.size > WHOLE_READ_MAX) return null;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  const buf = borrow();
  let lent = false;
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile() || Number(before.size) !== version.size || mtimeMsOf(before) !== version.mtimeMs) return null;
    let off = 0;
    for (;;) {
      const n = readSync(fd, buf, off, version.size + 1 - off, off);
      if (n === 0) break;
      off += n;
      if (off > version.size) return 'changed';
    }
    const after = fstatSync(fd, { bigint: true });
    if (off !== version.size || !sameFile(before, after)) return 'changed';
    lent = true;
    return { bytes: buf.subarray(0, off), stats: after, release: () => giveBack(buf) };
  } catch {
    return null;
  } finally {
    if (!lent) giveBack(buf);
    closeSync(fd);
  }
}
