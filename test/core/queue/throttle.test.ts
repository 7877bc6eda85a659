import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src-main/core/queue/throttle.js';

describe('TokenBucket', () => {
  it('lets a second of bytes through at once, then holds the average to the limit', async () => {
    const bucket = new TokenBucket(1_000_000);
    const t0 = Date.now();
    await bucket.take(1_000_000);
    const burst = Date.now() - t0;
    await bucket.take(500_000);
    await bucket.take(500_000);
    const total = Date.now() - t0;
    // 2 MB at 1 MB/s after a 1 MB burst: about a second of waiting (a behaviour, not a speed target).
    expect(burst).toBeLessThan(200);
    expect(total).toBeGreaterThanOrEqual(900);
  });
});
