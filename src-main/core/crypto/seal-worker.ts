// The sealing worker thread (see sealer.ts): reads a small record, checks it is what was queued (by
// the file identity intake recorded, else by hashing it again: queue/file-identity.ts), encrypts
// it, and hands the ciphertext back. Its keyring is rebuilt from the
// specs it is started with.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { vouchesFor } from '../queue/file-identity.js';
import { takeWholeSync } from '../records/file-bytes.js';
import { encryptBuffer } from './envelope.js';
import { keyringFromSpecs, type KeyringSpec } from './keyrings.js';
import type { SealReply, SealRequest } from './sealer.js';

const keyring = keyringFromSpecs((workerData as { specs: KeyringSpec[] }).specs);
const port = parentPort!;

async function seal(req: SealRequest): Promise<SealReply> {
  const whole = takeWholeSync(req.path, req);
  if (whole === 'changed') return { id: req.id, result: 'changed' };
  // Too large, unreadable or gone: the main thread's own path says what happened.
  if (!whole) return { id: req.id, result: 'fallback' };
  try {
    // takeWholeSync read it between two fstat calls that agreed; the identity binds those to the hash.
    if (!vouchesFor(req.identity, req.sha256, whole.stats) && createHash('sha256').update(whole.bytes).digest('hex') !== req.sha256) {
      return { id: req.id, result: 'changed' };
    }
    const header = req.header ? Buffer.from(req.header) : null;
    const out = await encryptBuffer(keyring, req.context, header ? Buffer.concat([header, whole.bytes]) : whole.bytes);
    // A buffer of its own, so it can be moved to the main thread without a copy.
    const ciphertext = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer as ArrayBuffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
    // The ciphertext's own hash, for the upload's signature (the main thread would hash it otherwise).
    return { id: req.id, result: 'sealed', ciphertext, sha256: createHash('sha256').update(out).digest('hex') };
  } finally {
    whole.release();
  }
}

port.on('message', (req: SealRequest) => {
  seal(req).then(
    (reply) => port.postMessage(reply, reply.result === 'sealed' ? [reply.ciphertext] : []),
    (e: unknown) => port.postMessage({ id: req.id, result: 'error', message: e instanceof Error ? e.message : String(e) } satisfies SealReply),
  );
});
