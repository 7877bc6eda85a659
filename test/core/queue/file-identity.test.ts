// The identity intake keeps with a job: it vouches for the bytes it was hashed with, and for nothing
// else once the file was written, even with its size and mtime put back.
import { openSync, closeSync, statSync, utimesSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mtimeMsOf, vouchesFor } from '../../../src-main/core/queue/file-identity.js';
import { hashFile, type HashedFile } from '../../../src-main/core/watch/intake.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('identity');
const later = () => Date.now() + 5000;

async function hashed(path: string, nowMs = later()): Promise<HashedFile> {
  const h = await hashFile(path, nowMs);
  if (h === 'changed') throw new Error('changed while hashed');
  return h;
}

describe('file identity', () => {
  it('vouches for a settled file that nobody touched since it was hashed', async () => {
    const path = join(dir, 'a.dcm');
    writeFileSync(path, 'first content');
    const h = await hashed(path);
    expect(h.identity).not.toBeNull();
    expect(vouchesFor(h.identity, h.sha256, await stat(path, { bigint: true }))).toBe(true);
  });

  it('vouches for nothing when the file was written within the last second (ctime may not have moved yet)', async () => {
    const path = join(dir, 'b.dcm');
    writeFileSync(path, 'just written');
    expect((await hashed(path, Date.now())).identity).toBeNull();
  });

  it('no longer vouches once the file was rewritten with its size and mtime put back', async () => {
    const path = join(dir, 'c.dcm');
    writeFileSync(path, 'AAAA-original');
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const before = await stat(path, { bigint: true });
    const h = await hashed(path);
    await new Promise((r) => setTimeout(r, 20));
    const fd = openSync(path, 'r+');
    writeSync(fd, 'BBBB', 0);
    closeSync(fd);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const now = await stat(path, { bigint: true });
    expect([now.size, now.mtimeNs, now.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(vouchesFor(h.identity, h.sha256, now)).toBe(false);
  });

  it('vouches only for the hash it was taken with', async () => {
    const path = join(dir, 'd.dcm');
    writeFileSync(path, 'content');
    const h = await hashed(path);
    expect(vouchesFor(h.identity, 'another-sha256', await stat(path, { bigint: true }))).toBe(false);
    expect(vouchesFor(null, h.sha256, await stat(path, { bigint: true }))).toBe(false);
  });

  it('no longer vouches after a chmod (the upload then hashes the file)', async () => {
    const path = join(dir, 'e.dcm');
    writeFileSync(path, 'content');
    const h = await hashed(path);
    await new Promise((r) => setTimeout(r, 20));
    chmodSync(path, 0o600);
    expect(vouchesFor(h.identity, h.sha256, await stat(path, { bigint: true }))).toBe(false);
  });

  it('reads mtime to the millisecond exactly as the number form of stat does', async () => {
    const path = join(dir, 'f.dcm');
    writeFileSync(path, 'x');
    for (const t of [1_700_000_000.123999, 1_700_000_000.999999, 946_684_800.5, 1_234_567_890]) {
      utimesSync(path, t, t);
      expect(mtimeMsOf(await stat(path, { bigint: true }))).toBe(Math.trunc(statSync(path).mtimeMs));
    }
  });
});
