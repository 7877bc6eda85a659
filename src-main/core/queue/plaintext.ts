// A job's file read once as the plaintext of its upload, with proof that the bytes are those the job
// was queued with: the file's identity from intake, unchanged from before the first read to after the
// last (queue/file-identity.ts), or else the SHA-256 taken while reading. A file that changed is
// reported, so that its bytes are thrown away rather than sent.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { sameFile, vouchesFor } from './file-identity.js';
import type { Job } from './jobs.js';

/** Reads until `length` bytes are in `buf` at `offset` or the file ends; returns how many were read. */
async function readFully(fh: FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, offset + got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Hands `head` and then the job's file to `take` in chunks of exactly `frame` bytes (the last one
 * shorter), one at a time: the next chunk is read while `take` works on one, and handed over once
 * its promise has settled. The chunks live in two buffers that take turns, so `take` must be done
 * with a chunk when its promise settles (a cipher that copies or consumes it). 'changed' when the
 * file is not what the job was queued with: whatever `take` was given must then be thrown away.
 */
export async function readFrames(job: Job, frame: number, head: Buffer | null, take: (chunk: Buffer) => Promise<void>): Promise<'read' | 'changed'> {
  const fh = await open(job.sourcePath, 'r');
  try {
    const before = await fh.stat({ bigint: true });
    if (before.size !== BigInt(job.size)) return 'changed';
    const hash = vouchesFor(job.fileIdentity, job.sha256, before) ? null : createHash('sha256');
    const total = (head?.length ?? 0) + job.size;
    const buffers: Buffer[] = [];
    let taking: Promise<void> = Promise.resolve();
    try {
      let pos = 0;
      for (let sent = 0, turn = 0; sent < total; turn ^= 1) {
        // The buffer of the chunk before last: `take` is done with it.
        const buf = (buffers[turn] ??= Buffer.allocUnsafeSlow(Math.min(frame, total))).subarray(0, Math.min(frame, total - sent));
        const off = sent === 0 && head ? head.copy(buf) : 0;
        const got = await readFully(fh, buf, off, buf.length - off, pos);
        if (got < buf.length - off) return 'changed';
        hash?.update(buf.subarray(off));
        pos += got;
        sent += buf.length;
        await taking;
        taking = take(buf);
        taking.catch(() => {}); // awaited on the next turn or below
      }
    } finally {
      await taking;
    }
    // Any write since the first fstat (growing the file too) moved ctime.
    if (!sameFile(before, await fh.stat({ bigint: true }))) return 'changed';
    return !hash || hash.digest('hex') === job.sha256 ? 'read' : 'changed';
  } finally {
    await fh.close();
  }
}

/** The job's whole file in memory (a small record stored without client-side encryption). */
export async function readWhole(job: Job): Promise<Buffer | 'changed'> {
  let whole: Buffer = Buffer.alloc(0);
  const verdict = await readFrames(job, Math.max(1, job.size), null, async (chunk) => { whole = chunk; });
  return verdict === 'changed' ? 'changed' : whole;
}
