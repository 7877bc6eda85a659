// A job's file encrypted into a spool file (large records) or into memory (small ones), frame by
// frame as it is read (queue/plaintext.ts). Plaintext never goes to disk.
import { open, type FileHandle } from 'node:fs/promises';
import { FRAME_LENGTH, MessageWriter } from '../crypto/envelope.js';
import type { RunnerEncryption } from './payload.js';
import type { Job } from './jobs.js';
import { readFrames } from './plaintext.js';
import { freeNow } from '../records/file-bytes.js';

/** Where ciphertext goes, in order. `close` is called once, also after a failure. */
export interface Sink {
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Ciphertext collected in memory. */
export class MemorySink implements Sink {
  private readonly chunks: Buffer[] = [];

  async write(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
  }

  async close(): Promise<void> {}

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Ciphertext appended to a file, with one write at a time in flight while the next is gathered.
 * The chunks become the sink's: once written, their memory is freed (records/file-bytes.ts
 * `freeNow`), so a caller must not hand it a buffer it still uses.
 */
export class FileSink implements Sink {
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private offset = 0;
  private writing: Promise<void> = Promise.resolve();
  private error: unknown = null;

  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, 'w'));
  }

  async write(chunk: Buffer): Promise<void> {
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    if (this.gatheredBytes >= FRAME_LENGTH) await this.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      await this.writing;
    } finally {
      await this.fh.close();
    }
    if (this.error !== null) throw this.error;
  }

  private async flush(): Promise<void> {
    await this.writing;
    if (this.error !== null) throw this.error;
    const chunks = this.gathered;
    const at = this.offset;
    this.offset += this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.writing = this.writeAll(chunks, at).catch((e: unknown) => { this.error ??= e; });
  }

  private async writeAll(chunks: Buffer[], at: number): Promise<void> {
    const all = [...chunks];
    while (chunks.length) {
      let { bytesWritten } = await this.fh.writev(chunks, at);
      at += bytesWritten;
      while (chunks.length && bytesWritten >= chunks[0]!.length) bytesWritten -= chunks.shift()!.length;
      if (bytesWritten > 0) chunks[0] = chunks[0]!.subarray(bytesWritten);
    }
    for (const chunk of all) freeNow(chunk);
  }
}

/**
 * Encrypts `head` (if any) and the job's file into `sink`, which is closed in every case, frame by
 * frame as it is read (MessageWriter: one frame encrypted while the next is read and the one
 * before is written). 'changed' when the file is not the one that was queued: what reached `sink`
 * must then be thrown away.
 */
export async function encryptFile(job: Job, encryption: NonNullable<RunnerEncryption>, context: Record<string, string>,
  head: Buffer | null, sink: Sink): Promise<'encrypted' | 'changed'> {
  let verdict: 'read' | 'changed' = 'changed';
  let failure: unknown = null;
  try {
    const writer = await MessageWriter.start(encryption.keyring, context);
    try {
      for (const piece of writer.header) await sink.write(piece);
      verdict = await readFrames(job, FRAME_LENGTH, head, async (chunk) => {
        for (const piece of writer.frame(chunk)) await sink.write(piece);
      });
      if (verdict === 'read') for (const piece of writer.end()) await sink.write(piece);
    } finally {
      writer.dispose();
    }
  } catch (e) {
    failure = e;
  }
  const closed = await sink.close().then(() => null, (e: unknown) => e);
  if ((failure ?? closed) !== null) throw failure ?? closed;
  return verdict === 'changed' ? 'changed' : 'encrypted';
}
