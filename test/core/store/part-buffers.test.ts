import { describe, expect, it } from 'vitest';
import { PartBuffers } from '../../../src-main/core/store/part-buffers.js';

describe('PartBuffers', () => {
  it('never has more than its count of buffers out, and hands a returned one to who waited first', async () => {
    const pool = new PartBuffers(1024, 2);
    const a = await pool.take();
    const b = await pool.take();
    const order: string[] = [];
    const c = pool.take().then((buf) => { order.push('c'); return buf; });
    const d = pool.take().then((buf) => { order.push('d'); return buf; });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    pool.give(b);
    expect(await c).toBe(b);
    pool.give(a);
    expect(await d).toBe(a);
    expect(order).toEqual(['c', 'd']);
    expect(a.length).toBe(1024);
  });

  it('reuses a buffer given back rather than making another', async () => {
    const pool = new PartBuffers(16, 4);
    const a = await pool.take();
    pool.give(a);
    expect(await pool.take()).toBe(a);
  });

  it('refuses a pool without room for one part', () => {
    expect(() => new PartBuffers(1024, 0)).toThrow(/at least one buffer/);
  });
});
