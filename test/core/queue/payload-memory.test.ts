// Small records are read once into memory, checked against the hash they were queued with, and
// encrypted as one buffer: a file that changed since it was queued is never sent as a mix.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newAesKey, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { aesKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { decryptWithKeyFile } from '../../../src-main/core/crypto/manage.js';
import type { Job } from '../../../src-main/core/queue/jobs.js';
import { inMemoryPayload } from '../../../src-main/core/queue/payload-memory.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('payload-memory');
const keyFile = join(dir, 'site.key.json');
const key = newAesKey();
writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId: 'site-1', key });
const enc = { keyring: aesKeyring('site-1', Buffer.from(key, 'base64')), keyIds: ['aes:site-1'] };

function queued(name: string, content: Buffer): Job {
  const path = join(dir, name);
  writeFileSync(path, content);
  // A whole second: utimes cannot put back a time with milliseconds exactly (float rounding).
  const t = Math.floor(Date.now() / 1000) - 10;
  utimesSync(path, t, t);
  const s = statSync(path);
  return {
    id: 1, sourcePath: path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), sha256: createHash('sha256').update(content).digest('hex'),
    kind: 'ecg-report', recordDate: '2026-11-23', objectKey: `ecg-reports/2026/11/23/${name}`, contentType: 'application/pdf',
    state: 'uploading', attempts: 1, nextAttemptAt: null, lastErrorCode: null, lastError: null, createdAt: 0, updatedAt: 0,
    uploadedAt: null, uploadId: null, partSize: null, storedSize: null, resumedParts: 0,
  };
}

async function decrypted(buffer: Buffer, name: string): Promise<{ data: Buffer; originalName: string | null }> {
  writeFileSync(join(dir, `${name}.enc`), buffer);
  const { originalName } = await decryptWithKeyFile(keyFile, join(dir, `${name}.enc`), join(dir, `${name}.out`));
  return { data: readFileSync(join(dir, `${name}.out`)), originalName };
}

describe('in-memory payload of a small record', () => {
  const content = Buffer.from('%PDF-1.4\n' + 'x'.repeat(200_000) + '\n%%EOF\n');

  it('encrypts the file as it was queued', async () => {
    const job = queued('a.pdf', content);
    const p = await inMemoryPayload(job, enc, 'esdk2', 'ws-1');
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    expect(p.storedSize).toBe(p.data.buffer.length);
    const out = await decrypted(p.data.buffer, 'a');
    expect(out.data.equals(content)).toBe(true);
    expect(out.originalName).toBeNull();
  });

  it('puts the name header first for an opaque key', async () => {
    const job = queued('b.pdf', content);
    const p = await inMemoryPayload(job, enc, 'esdk2-named', 'ws-1');
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    const out = await decrypted(p.data.buffer, 'b');
    expect(out.originalName).toBe('b.pdf');
    expect(out.data.equals(content)).toBe(true);
  });

  it('refuses a file rewritten with other bytes of the same size and the old modification time', async () => {
    const job = queued('c.pdf', content);
    const other = Buffer.from(content);
    other[100] = 0x79;
    writeFileSync(job.sourcePath, other);
    utimesSync(job.sourcePath, job.mtimeMs / 1000, job.mtimeMs / 1000);
    expect(await inMemoryPayload(job, enc, 'esdk2', 'ws-1')).toBe('changed');
  });

  it('refuses a file that grew or shrank since it was queued, also without encryption', async () => {
    const grown = queued('d.pdf', content);
    writeFileSync(grown.sourcePath, Buffer.concat([content, Buffer.from('more')]));
    expect(await inMemoryPayload(grown, enc, 'esdk2', 'ws-1')).toBe('changed');
    const shrunk = queued('e.pdf', content);
    writeFileSync(shrunk.sourcePath, content.subarray(0, 1000));
    expect(await inMemoryPayload(shrunk, null, 'plain', 'ws-1')).toBe('changed');
  });

  it('sends the file itself in sse-only mode', async () => {
    const job = queued('f.pdf', content);
    const p = await inMemoryPayload(job, null, 'plain', 'ws-1');
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    expect(p.data.buffer.equals(content)).toBe(true);
  });
});
