// The sealing worker thread (see sealer.ts): reads a small record, checks it is what was queued (by
// the file identity intake recorded, else by hashing it again: queue/file-identity.ts), encrypts
// it into the slot of shared memory it was given, and says how long the ciphertext is.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { vouchesFor } from '../queue/file-identity.js';
import { freeNow, takeWholeSync } from '../records/file-bytes.js';
import { encryptToChunks } from './envelope.js';
import { keyringFromSpecs, type KeyringSpec } from './keyrings.js';
import type { SealReply, SealRequest } from './sealer.js';

const keyring = keyringFromSpecs((workerData as { specs: KeyringSpec[] }).specs);
const port = parentPort!;
const slots = new Map<number, Buffer>();

async function seal(req: SealRequest): Promise<SealReply> {
  if (req.slotMemory) slots.set(req.slot, Buffer.from(req.slotMemory));
  const slot = slots.get(req.slot);
  if (!slot) return { id: req.id, result: 'fallback' };
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
    const plaintext = header ? Buffer.concat([header, whole.bytes]) : whole.bytes;
    const chunks = await encryptToChunks(keyring, req.context, plaintext);
    if (plaintext !== whole.bytes) freeNow(plaintext);
    // The ciphertext's own hash, for the upload's signature (the main thread would hash it otherwise).
    const hash = createHash('sha256');
    let length = 0;
    for (const c of chunks) {
      if (length + c.length > slot.length) return { id: req.id, result: 'fallback' };
      c.copy(slot, length);
      hash.update(c);
      length += c.length;
      // Copied into the slot: the cipher's buffer is garbage now.
      freeNow(c);
    }
    return { id: req.id, result: 'sealed', length, sha256: hash.digest('hex') };
  } finally {
    whole.release();
  }
}

port.on('message', (req: SealRequest) => {
  seal(req).then(
    (reply) => port.postMessage(reply),
    (e: unknown) => port.postMessage({ id: req.id, result: 'error', message: e instanceof Error ? e.message : String(e) } satisfies SealReply),
  );
});
