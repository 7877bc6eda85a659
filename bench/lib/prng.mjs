// Deterministic randomness for the workloads: a small integer PRNG (mulberry32) for choices and
// pauses, and an AES-128-CTR keystream derived from the seed for bulk bytes (GB/s, incompressible,
// identical on every run with the same seed). Never Math.random.
import { createCipheriv, createHash } from 'node:crypto';

/** mulberry32: returns a function giving floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A byte stream for one named purpose: same seed and label, same bytes. */
export function byteStream(seed, label) {
  const digest = createHash('sha256').update(`medrelay-bench:${seed}:${label}`).digest();
  const cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  return {
    /** The next `n` bytes of the keystream (a fresh buffer). */
    next(n) {
      return cipher.update(Buffer.alloc(n));
    },
  };
}
