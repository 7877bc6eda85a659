// The payload of a small record (below the part size): the file read once into memory, checked
// against the hash it was queued with, and encrypted as one buffer. Streams cost more per file
// than the encryption itself at these sizes (a day of 200 KB ECG PDFs).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { encryptBuffer, encryptionContext, namedHeader, type ObjectFormat } from '../crypto/envelope.js';
import { readExactly, withFileBytes } from '../records/file-bytes.js';
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
  // The plaintext is read into a reused buffer: the ciphertext is all that outlives this call.
  const buffer = await withFileBytes(job.sourcePath, job.size, async (plain) => {
    if (!unchanged(plain)) return null;
    return encryptBuffer(enc.keyring, context, header ? Buffer.concat([header, plain]) : plain);
  });
  if (!buffer) return 'changed';
  return { data: { buffer }, format, storedSize: buffer.length, discard };
}
