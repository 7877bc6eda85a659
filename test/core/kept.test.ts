// keptUnlessRejected: made once and kept; a rejection is forgotten, so the next call makes it again.
import { describe, expect, it } from 'vitest';
import { keptUnlessRejected } from '../../src-main/core/kept.js';

describe('keptUnlessRejected', () => {
  it('makes the promise once and gives it to every caller, at once and later', async () => {
    let made = 0;
    const get = keptUnlessRejected(async () => ++made);
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, await get(), made]).toEqual([1, 1, 1, 1]);
  });

  it('forgets a rejected promise: its callers see the failure, the next call makes it again and keeps that', async () => {
    let made = 0;
    const get = keptUnlessRejected(async () => {
      if (++made === 1) throw new Error('keychain locked');
      return made;
    });
    const first = get();
    expect(get()).toBe(first);
    await expect(first).rejects.toThrow('keychain locked');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(made).toBe(2);
  });
});
