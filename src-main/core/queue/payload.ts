// What a job sends: the file, proven to be what was queued as it is read (queue/plaintext.ts, so a
// file written before or during the upload is caught), with the name header for {opaque} keys,
// encrypted (queue/ciphertext.ts). Small records are encrypted into memory; large ones into a spool
// file of ciphertext, kept until the object is verified, so that a resumed multipart upload sends
// exactly the bytes its earlier parts came from. Plaintext never goes to disk.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import type { Sealer } from '../crypto/sealer.js';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { encryptionContext, namedHeader, type ObjectFormat } from '../crypto/envelope.js';
import type { PutData } from '../store/types.js';
import type { Job } from './jobs.js';
import { encryptFile, FileSink, MemorySink, type Sink } from './ciphertext.js';
import { sealedPayload } from './payload-memory.js';
import { readWhole } from './plaintext.js';

/** Client-side encryption of every upload; null in sse-only mode. */
export type RunnerEncryption = {
  keyring: KeyringNode;
  keyIds: string[];
  /** Encrypts small records on a worker thread (crypto/sealer.ts); absent with KMS keys. */
  sealer?: Sealer | null;
} | null;

/**
 * Records take turns to be encrypted, one at a time for the whole queue. Encryption runs many times
 * faster than uploads, so this costs no throughput; it spreads the cipher's garbage (a fresh buffer
 * per frame) over time rather than in bursts the garbage collector lags behind, which is what
 * raised peak memory with several large records starting at once.
 */
export class EncryptionTurns {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `f` once every earlier call has settled. */
  run<T>(f: () => Promise<T>): Promise<T> {
    const mine = this.last.then(f);
    this.last = mine.catch(() => {});
    return mine;
  }
}

export interface PayloadOptions {
  encryption: RunnerEncryption;
  workstationId: string;
  spoolDir: string;
  /** Records smaller than this are encrypted into memory and sent in one request. */
  inMemoryLimit: number;
  /** Shared by every job of a queue; absent: this record is encrypted whenever it comes. */
  turns?: EncryptionTurns;
  /**
   * Called before a new spool replaces whatever was there: the job's earlier multipart upload
   * must be forgotten first, or a crash in between could resume it with parts of other ciphertext.
   */
  forgetUpload: () => Promise<void>;
}

export interface Payload {
  data: PutData;
  format: ObjectFormat;
  /** Bytes the store will hold. */
  storedSize: number;
  discard(): Promise<void>;
  /** Gives back memory the payload borrowed (a sealing slot): called once its upload is over, sent or not. */
  release?: () => void;
}

/** True when the object key does not carry the file's name (an {opaque} template). */
export function isNamed(job: Job): boolean {
  return job.kind !== 'dicom' && !job.objectKey.endsWith(`/${basename(job.sourcePath)}`);
}

/** Removes whatever was spooled for a job. */
export async function discardSpool(spoolDir: string, jobId: number): Promise<void> {
  const names = await readdir(spoolDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${jobId}.`)).map((n) => rm(join(spoolDir, n), { force: true })));
}

/** Returns 'changed' when the file's bytes are not those the job was queued with. */
export async function preparePayload(job: Job, opts: PayloadOptions): Promise<Payload | 'changed'> {
  const enc = opts.encryption;
  const format: ObjectFormat = enc ? (isNamed(job) ? 'esdk2-named' : 'esdk2') : 'plain';
  const spool = join(opts.spoolDir, `${job.id}.${format}`);
  const discard = () => rm(spool, { force: true });
  const small = job.size < opts.inMemoryLimit;
  if (!enc && !small) {
    // sse-only: the file itself; the runner checks it did not change around the upload.
    return { data: { file: job.sourcePath, size: job.size }, format, storedSize: job.size, discard: async () => {} };
  }
  if (!small && job.uploadId && job.storedSize !== null) {
    const s = await stat(spool).catch(() => null);
    if (s?.size === job.storedSize) return { data: { file: spool, size: s.size }, format, storedSize: s.size, discard };
  }
  if (!enc) {
    const buffer = await readWhole(job);
    return buffer === 'changed' ? 'changed' : { data: { buffer }, format, storedSize: buffer.length, discard: async () => {} };
  }
  const context = encryptionContext(job.kind, opts.workstationId);
  const head = format === 'esdk2-named' ? namedHeader({ originalName: basename(job.sourcePath) }) : null;
  const encrypt = (sink: Sink) => {
    const run = () => encryptFile(job, enc, context, head, sink);
    return opts.turns ? opts.turns.run(run) : run();
  };
  if (small && enc.sealer) {
    // On the worker thread; null when it leaves the file to this thread.
    const sealed = await sealedPayload(job, enc.sealer, format, context, head);
    if (sealed !== null) return sealed;
  }
  if (small) {
    const sink = new MemorySink();
    if ((await encrypt(sink)) === 'changed') return 'changed';
    const buffer = sink.bytes();
    return { data: { buffer }, format, storedSize: buffer.length, discard: async () => {} };
  }
  await opts.forgetUpload();
  await mkdir(opts.spoolDir, { recursive: true });
  const tmp = `${spool}.tmp`;
  try {
    if ((await encrypt(await FileSink.create(tmp))) === 'changed') {
      await rm(tmp, { force: true });
      return 'changed';
    }
    await rename(tmp, spool);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const size = (await stat(spool)).size;
  return { data: { file: spool, size }, format, storedSize: size, discard };
}
