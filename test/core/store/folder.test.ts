import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../../src-main/core/store/folder.js';
import { StoreError } from '../../../src-main/core/store/types.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('folder-store');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('FolderStore', () => {
  const root = join(dir, 'store');
  const store = new FolderStore(root);
  const src = join(dir, 'a.pdf');
  writeFileSync(src, 'report bytes');
  const put = async (key: string, file = src, job = 'ws/1') => (await store.put({ key, data: { file, size: 0 }, source: file, contentType: 'application/pdf', metadata: { 'medrelay-kind': 'ecg-report', 'medrelay-job': job } })).outcome;

  it('writes under the key layout and leaves no temp file behind', async () => {
    expect(await put('ecg-reports/2024/03/15/a.pdf')).toBe('written');
    expect(readFileSync(join(root, 'ecg-reports/2024/03/15/a.pdf'), 'utf8')).toBe('report bytes');
    expect(readdirSync(join(root, 'ecg-reports/2024/03/15'))).toEqual(['a.pdf']);
    expect((await store.head('ecg-reports/2024/03/15/a.pdf'))?.metadata).toEqual({ 'medrelay-kind': 'ecg-report', 'medrelay-job': 'ws/1' });
  });

  it('accepts a retry of the same job or the same bytes, but never overwrites other content', async () => {
    expect(await put('ecg-reports/2024/03/15/a.pdf')).toBe('already-ours');
    expect(await put('ecg-reports/2024/03/15/a.pdf', src, 'ws/other-job')).toBe('already-ours');
    const other = join(dir, 'b.pdf');
    writeFileSync(other, 'different bytes');
    expect(await put('ecg-reports/2024/03/15/a.pdf', other, 'ws/1')).toBe('already-ours');
    const e = await put('ecg-reports/2024/03/15/a.pdf', other, 'ws/2').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('conflict');
    expect((e as StoreError).message).toContain(other);
    expect(readFileSync(join(root, 'ecg-reports/2024/03/15/a.pdf'), 'utf8')).toBe('report bytes');
  });

  it('lists a prefix without metadata files and reads the bytes back', async () => {
    await put('ecg-reports/2024/03/16/c.pdf');
    const keys = (await collect(store.list('ecg-reports/2024/03/15/'))).map((o) => o.key);
    expect(keys).toEqual(['ecg-reports/2024/03/15/a.pdf']);
    const { body } = await store.get('ecg-reports/2024/03/16/c.pdf');
    let text = '';
    for await (const c of body) text += (c as Buffer).toString();
    expect(text).toBe('report bytes');
  });

  it('says which key is missing', async () => {
    const e2 = (await store.get('ecg-reports/1999/01/01/none.pdf').catch((x: unknown) => x)) as StoreError;
    expect(e2.code).toBe('not-found');
    expect(e2.message).toContain('ecg-reports/1999/01/01/none.pdf');
  });
});
