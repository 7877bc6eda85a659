// Reading files with few allocations and few calls. A file stream allocates a fresh 1 MiB buffer
// per read (and for a 200 KB PDF, three), and each asynchronous call is a thread-pool round trip.
// For intake and the sealing worker, a small file is read in one blocking call into one of a few
// reused buffers; larger files and spooled parts are read a chunk at a time through them.
import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { mtimeMsOf, sameFile } from '../queue/file-identity.js';

const CHUNK = 1024 * 1024;
const spare: Buffer[] = [];

/** A 1 MiB buffer; give it back when done. */
function borrow(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

/** Kept for reuse up to as many as were ever borrowed at once (parts in flight), at most 16. */
function giveBack(b: Buffer): void {
  if (spare.length < 16) spare.push(b);
}

/**
 * Frees the memory of a large buffer that owns its whole ArrayBuffer now, rather than at a later
 * garbage collection; the buffer is empty afterwards. A cipher makes a new buffer for each frame
 * (a megabyte) or small record, and V8 collects for such outside memory only every 64 MB or so:
 * while a series of 50 MB files was encrypted about 70 MB of them waited at once, most of the peak
 * RSS above the heap. Smaller buffers, views and pooled slices are left to the collector.
 */
export function freeNow(chunk: Buffer): void {
  const ab = chunk.buffer;
  if (chunk.byteLength >= 64 * 1024 && chunk.byteOffset === 0 && chunk.byteLength === ab.byteLength && ab instanceof ArrayBuffer) {
    // ES2024 (Node 20+): detaching with length 0 releases the backing store at once.
    (ab as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  }
}

/**
 * Hands `length` bytes of `file` from `start` to `take`, a chunk of at most 1 MiB at a time, in one
 * reused buffer: the next chunk is read only once `take`'s promise has settled, so `take` must be
 * done with a chunk by then. Throws when the file ends before `length` bytes.
 */
export async function forEachChunk(file: string, start: number, length: number, take: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const fh = await open(file, 'r');
  const buf = borrow();
  try {
    for (let off = 0; off < length;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - off), start + off);
      if (bytesRead === 0) throw new Error(`${file} ended at ${start + off}, before the ${length} bytes from ${start} were read`);
      await take(buf.subarray(0, bytesRead));
      off += bytesRead;
    }
  } finally {
    giveBack(buf);
    await fh.close();
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
