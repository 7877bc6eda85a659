// Reading whole files with few allocations. A file stream allocates a fresh 1 MiB buffer per read
// (and for a 200 KB PDF, three); the garbage and page faults of that cost more than hashing it.
// Here a few read buffers are reused, and a small file is read in one call.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 1024 * 1024;
const spare: Buffer[] = [];

/** A 1 MiB buffer for a read loop; give it back when done. */
function borrow(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(b: Buffer): void {
  if (spare.length < 4) spare.push(b);
}

/** Calls `f` with each chunk of the file from `position` to its end; chunks are reused after `f` returns. */
export async function forEachChunk(fh: FileHandle, f: (chunk: Buffer) => void, position = 0): Promise<number> {
  const buf = borrow();
  let read = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, position + read);
      if (bytesRead === 0) return read;
      f(buf.subarray(0, bytesRead));
      read += bytesRead;
    }
  } finally {
    giveBack(buf);
  }
}

/** The sha256 of a file's bytes, in hex. */
export async function sha256OfFile(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const h = createHash('sha256');
    await forEachChunk(fh, (c) => h.update(c));
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

async function readInto(path: string, size: number, buf: Buffer): Promise<Buffer | null> {
  const fh = await open(path, 'r');
  try {
    let off = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
      if (off > size) return null;
    }
    return off === size ? buf.subarray(0, size) : null;
  } finally {
    await fh.close();
  }
}

/**
 * The file's bytes when it has exactly `size` of them, else null (it grew or shrank). One byte
 * more than expected is asked for, so a file that grew is seen without reading all of it.
 */
export function readExactly(path: string, size: number): Promise<Buffer | null> {
  return readInto(path, size, Buffer.allocUnsafe(size + 1));
}

/**
 * Like readExactly, but the bytes are only lent to `f` (in a reused buffer when the file is small):
 * `f` must not keep them after its promise settles. Null when the file no longer has `size` bytes.
 */
export async function withFileBytes<T>(path: string, size: number, f: (bytes: Buffer) => Promise<T>): Promise<T | null> {
  if (size + 1 > CHUNK) {
    const bytes = await readExactly(path, size);
    return bytes ? f(bytes) : null;
  }
  const buf = borrow();
  try {
    const bytes = await readInto(path, size, buf.subarray(0, size + 1));
    return bytes ? await f(bytes) : null;
  } finally {
    giveBack(buf);
  }
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

/** Two fstat results of one open file that show no change between them. */
function unchanged(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
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
    if (!before.isFile() || Number(before.size) !== version.size || Number(before.mtimeMs) !== version.mtimeMs) return null;
    let off = 0;
    for (;;) {
      const n = readSync(fd, buf, off, version.size + 1 - off, off);
      if (n === 0) break;
      off += n;
      if (off > version.size) return 'changed';
    }
    const after = fstatSync(fd, { bigint: true });
    if (off !== version.size || !unchanged(before, after)) return 'changed';
    lent = true;
    return { bytes: buf.subarray(0, off), stats: after, release: () => giveBack(buf) };
  } catch {
    return null;
  } finally {
    if (!lent) giveBack(buf);
    closeSync(fd);
  }
}
