// The payload of a small record (below the part size): the file read once into memory, checked
// against the hash it was queued with, and encrypted as one buffer. Streams cost more per file
// than the encryption itself at these sizes (a day of 200 KB ECG PDFs).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { encryptBuffer, encryptionContext, namedHeader, type ObjectFormat } from '../crypto/envelope.js';
import { readExactly, takeWholeSync, withFileBytes } from '../records/file-bytes.js';
import type { Job } from './jobs.js';
import type { Payload, RunnerEncryption } from './payload.js';

export async function inMemoryPayload(job: Job, enc: RunnerEncryption, format: ObjectFormat, workstationId: string): Promise<Payload | 'changed'> {
  const discard = async () => {};
  const unchanged = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex') === job.sha256;
  if (!enc) {
    // sse-only: the plaintext itself is sent, so it gets a buffer of its own.
    const plain = await readExactly(job.sourcePath, job.size);
    if (!plain || !unchanged(plain)) return 'changed';
    return { data: { buffer: plain }, format, storedSize: plain.length, discard };
  }
  const context = encryptionContext(job.kind, workstationId);
  const header = format === 'esdk2-named' ? namedHeader({ originalName: basename(job.sourcePath) }) : null;
  if (enc.sealer) {
    const reply = await enc.sealer.seal({ path: job.sourcePath, size: job.size, mtimeMs: job.mtimeMs, sha256: job.sha256, context, header });
    if (reply.result === 'changed') return 'changed';
    if (reply.result === 'error') throw new Error(`encrypting ${job.sourcePath}: ${reply.message}`);
    if (reply.result === 'sealed') {
      const buffer = Buffer.from(reply.ciphertext);
      return { data: { buffer, sha256: reply.sha256 }, format, storedSize: buffer.length, discard };
    }
  }
  const encrypt = (plain: Buffer) => {
    if (!unchanged(plain)) return Promise.resolve(null);
    return encryptBuffer(enc.keyring, context, header ? Buffer.concat([header, plain]) : plain);
  };
  // The plaintext is read into a reused buffer (with blocking calls when it is small, checked for
  // the queued size and modification time): the ciphertext is all that outlives this call.
  const whole = takeWholeSync(job.sourcePath, job);
  if (whole === 'changed') return 'changed';
  let buffer: Buffer | null;
  if (whole) {
    try {
      buffer = await encrypt(whole.bytes);
    } finally {
      whole.release();
    }
  } else {
    buffer = await withFileBytes(job.sourcePath, job.size, encrypt);
  }
  if (!buffer) return 'changed';
  return { data: { buffer }, format, storedSize: buffer.length, discard };
}
