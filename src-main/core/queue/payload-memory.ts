// The payload of a small record (below the part size) when a sealing worker is running
// (crypto/sealer.ts): the worker reads the file once, checks it against the hash it was queued
// with, encrypts it and hashes the ciphertext for the request signature. The main thread, which
// limits a backlog of small files, only moves the result on. The ciphertext stays in the sealer's
// shared slot until the payload is released.
import type { ObjectFormat } from '../crypto/envelope.js';
import type { Sealer } from '../crypto/sealer.js';
import type { Job } from './jobs.js';
import type { Payload } from './payload.js';

/** The sealed payload, 'changed' when the file is not what was queued, or null to do it here instead. */
export async function sealedPayload(job: Job, sealer: Sealer, format: ObjectFormat, context: Record<string, string>, header: Buffer | null): Promise<Payload | 'changed' | null> {
  const reply = await sealer.seal({ path: job.sourcePath, size: job.size, mtimeMs: job.mtimeMs, sha256: job.sha256, identity: job.fileIdentity, context, header });
  if (reply.result === 'changed') return 'changed';
  if (reply.result === 'error') throw new Error(`encrypting ${job.sourcePath}: ${reply.message}`);
  if (reply.result === 'fallback') return null;
  const buffer = reply.ciphertext;
  return { data: { buffer, sha256: reply.sha256 }, format, storedSize: buffer.length, discard: async () => {}, release: reply.release };
}
