// Uploads on the wire and records prepared ahead, against a real RGW: no more than `concurrency`
// writes are out at once, small records beyond them are taken and encrypted while the wire is
// busy, and a stop parks those still waiting for the wire back in the queue.
import { afterAll, describe, expect, it } from 'vitest';
import { type ObjectStore, type PutRequest } from '../../../src-main/core/store/types.js';
import { gate, rig, wrap } from './rig.js';

/** The real store, its writes held at a gate; counts the writes out at once. */
function heldStore(store: ObjectStore) {
  const held = gate();
  const wire = { now: 0, most: 0, started: 0 };
  const s = wrap(store, {
    put: async (req: PutRequest) => {
      wire.now++;
      wire.started++;
      wire.most = Math.max(wire.most, wire.now);
      try {
        // Held like a slow store, and given up like a real write when the upload is stopped.
        await new Promise<void>((resolve, reject) => {
          void held.opened.then(resolve);
          req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('stopped'), { name: 'AbortError' })), { once: true });
        });
        return await store.put(req);
      } finally {
        wire.now--;
      }
    },
  });
  return { store: s, wire, open: held.open };
}

describe('the upload pipeline', () => {
  const closers: (() => void)[] = [];
  afterAll(() => { for (const c of closers) c(); });

  it('keeps at most `concurrency` writes on the wire and takes as many small records again to encrypt meanwhile', async () => {
    const r = await rig('pipeline');
    closers.push(() => r.site.client.destroy());
    r.queue(Array.from({ length: 9 }, (_, i) => `05/ECG_Report_20240505_0900${String(i).padStart(2, '0')}.pdf`));
    const held = heldStore(r.site.store);
    const runner = r.runner(held.store, { concurrency: 2, sealAhead: 3, verifyLingerMs: 0 });
    runner.start(r.site.encryption);
    await expect.poll(() => held.wire.now, { timeout: 10_000 }).toBe(2);
    // Two on the wire, three more taken from the queue and waiting with their ciphertext.
    await expect.poll(() => r.jobs.counts().uploading, { timeout: 10_000 }).toBe(5);
    expect(r.jobs.counts().queued).toBe(4);
    expect(held.wire.started).toBe(2);
    held.open();
    await r.settled(9);
    await runner.stop();
    expect(r.jobs.counts().done).toBe(9);
    expect(held.wire.most).toBe(2);
  });

  it('parks the records waiting for the wire back in the queue when it stops, and a later run delivers them', async () => {
    const r = await rig('pipeline-stop');
    closers.push(() => r.site.client.destroy());
    r.queue(Array.from({ length: 4 }, (_, i) => `06/ECG_Report_20240506_0900${String(i).padStart(2, '0')}.pdf`));
    const held = heldStore(r.site.store);
    const runner = r.runner(held.store, { concurrency: 1, sealAhead: 2, stopGraceMs: 200 });
    runner.start(r.site.encryption);
    await expect.poll(() => r.jobs.counts().uploading, { timeout: 10_000 }).toBe(3);
    await runner.stop();
    expect(r.jobs.counts()).toMatchObject({ queued: 4, uploading: 0, failed: 0, 'needs-attention': 0 });
    expect(held.wire.started).toBe(1);
    await r.deliver(4);
    expect(r.jobs.counts().done).toBe(4);
  });
});
