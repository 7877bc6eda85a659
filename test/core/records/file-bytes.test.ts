// Whole-file reads with reused buffers: small files in one blocking read, checked against the
// version (size, modification time) the caller expects; everything else takes the ordinary path.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeNow, takeWholeSync, WHOLE_READ_MAX } from '../../../src-main/core/records/file-bytes.js';
import { FileSink } from '../../../src-main/core/queue/ciphertext.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('file-bytes');
const versionOf = (p: string) => { const s = statSync(p); return { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) }; };

describe('file bytes', () => {
  const small = join(dir, 'small.pdf');
  const content = Buffer.from('%PDF-1.4\n' + 'y'.repeat(300_000) + '\n%%EOF\n');
  writeFileSync(small, content);

  it('lends a small file\'s bytes when it still has the expected version', () => {
    const whole = takeWholeSync(small, versionOf(small));
    if (!whole || whole === 'changed') throw new Error('expected bytes');
    expect(whole.bytes.equals(content)).toBe(true);
    whole.release();
  });

  it('leaves files of another version, folders, missing and large files to the ordinary path', () => {
    const v = versionOf(small);
    expect(takeWholeSync(small, { ...v, mtimeMs: v.mtimeMs - 1000 })).toBeNull();
    expect(takeWholeSync(small, { ...v, size: v.size + 1 })).toBeNull();
    mkdirSync(join(dir, 'folder'));
    expect(takeWholeSync(join(dir, 'folder'), { size: 0, mtimeMs: 0 })).toBeNull();
    expect(takeWholeSync(join(dir, 'missing.pdf'), v)).toBeNull();
    const large = join(dir, 'large.dcm');
    writeFileSync(large, Buffer.alloc(WHOLE_READ_MAX + 10, 7));
    expect(takeWholeSync(large, versionOf(large))).toBeNull();
  });

  it('frees a large buffer that owns its memory at once, and leaves views, pooled and small buffers alone', () => {
    const big = Buffer.alloc(1024 * 1024, 1);
    const parent = Buffer.alloc(1024 * 1024, 2);
    const view = parent.subarray(0, 512 * 1024);
    const pooled = Buffer.from('pooled');
    const small = Buffer.alloc(1000, 3);
    for (const b of [big, view, pooled, small]) freeNow(b);
    expect(big.length).toBe(0);
    expect(view.length).toBe(512 * 1024);
    expect(parent.length).toBe(1024 * 1024);
    expect(pooled.toString()).toBe('pooled');
    expect(small.length).toBe(1000);
  });

  it('writes what a file sink is given, then frees the large chunks it took', async () => {
    const path = join(dir, 'spool.bin');
    const sink = await FileSink.create(path);
    const chunks = [Buffer.from('head'), Buffer.alloc(1024 * 1024, 7), Buffer.alloc(300 * 1024, 8), Buffer.from('tail')];
    const expected = Buffer.concat(chunks);
    for (const c of chunks) await sink.write(c);
    await sink.close();
    expect(readFileSync(path).equals(expected)).toBe(true);
    expect(chunks.map((c) => c.length)).toEqual([4, 0, 0, 4]);
  });
});
