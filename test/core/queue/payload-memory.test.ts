// Small records with a sealing worker: read once, checked against the hash they were queued with,
// encrypted on the worker thread; a file that changed since it was queued is never sent as a mix,
// and with the worker gone the main thread does the same work.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newAesKey, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { aesKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { decryptWithKeyFile } from '../../../src-main/core/crypto/manage.js';
import { Sealer } from '../../../src-main/core/crypto/sealer.js';
import type { Job } from '../../../src-main/core/queue/jobs.js';
import { preparePayload, type RunnerEncryption } from '../../../src-main/core/queue/payload.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('payload-memory');
const keyFile = join(dir, 'site.key.json');
const key = newAesKey();
writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId: 'site-1', key });
const keyBytes = Buffer.from(key, 'base64');
// Vitest runs the TypeScript sources; the worker thread runs the built file (scripts/test builds first).
const sealer = Sealer.start([{ type: 'aes', keyId: 'site-1', key: new Uint8Array(keyBytes) }], new URL('../../../dist/src-main/core/crypto/seal-worker.js', import.meta.url))!;
const withWorker: RunnerEncryption = { keyring: aesKeyring('site-1', keyBytes), keyIds: ['aes:site-1'], sealer };

function queued(name: string, content: Buffer, objectKey = `ecg-reports/2026/11/23/${name}`): Job {
  const path = join(dir, name);
  writeFileSync(path, content);
  // A whole second: utimes cannot put back a time with milliseconds exactly (float rounding).
  const t = Math.floor(Date.now() / 1000) - 10;
  utimesSync(path, t, t);
  const s = statSync(path);
  return {
    id: 1, sourcePath: path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), sha256: createHash('sha256').update(content).digest('hex'),
    kind: 'ecg-report', recordDate: '2026-11-23', objectKey, contentType: 'application/pdf',
    state: 'uploading', attempts: 1, nextAttemptAt: null, lastErrorCode: null, lastError: null, createdAt: 0, updatedAt: 0,
    uploadedAt: null, uploadId: null, partSize: null, storedSize: null, resumedParts: 0, fileIdentity: null,
  };
}

const payloadOf = (job: Job, encryption: RunnerEncryption = withWorker) => preparePayload(job, {
  encryption, workstationId: 'ws-1', spoolDir: join(dir, 'spool'), inMemoryLimit: 16 * 1024 * 1024, forgetUpload: async () => {},
});

async function decrypted(buffer: Buffer, name: string): Promise<{ data: Buffer; originalName: string | null }> {
  writeFileSync(join(dir, `${name}.enc`), buffer);
  const { originalName } = await decryptWithKeyFile(keyFile, join(dir, `${name}.enc`), join(dir, `${name}.out`));
  return { data: readFileSync(join(dir, `${name}.out`)), originalName };
}

describe('payload of a small record with a sealing worker', () => {
  afterAll(() => sealer.close());
  const content = Buffer.from('%PDF-1.4\n' + 'x'.repeat(200_000) + '\n%%EOF\n');

  it('encrypts the file as it was queued, with the ciphertext hash for the request signature', async () => {
    const p = await payloadOf(queued('a.pdf', content));
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    expect(p.data.sha256).toBe(createHash('sha256').update(p.data.buffer).digest('hex'));
    expect(p.storedSize).toBe(p.data.buffer.length);
    const out = await decrypted(p.data.buffer, 'a');
    expect(out.data.equals(content)).toBe(true);
    expect(out.originalName).toBeNull();
  });

  it('puts the name header first for an opaque key', async () => {
    const p = await payloadOf(queued('b.pdf', content, 'ecg-reports/2026/11/23/opaque-1234.pdf'));
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    expect(p.format).toBe('esdk2-named');
    const out = await decrypted(p.data.buffer, 'b');
    expect(out.originalName).toBe('b.pdf');
    expect(out.data.equals(content)).toBe(true);
  });

  it('refuses a file rewritten with other bytes of the same size and modification time', async () => {
    const job = queued('c.pdf', content);
    const other = Buffer.from(content);
    other[100] = 0x79;
    writeFileSync(job.sourcePath, other);
    utimesSync(job.sourcePath, job.mtimeMs / 1000, job.mtimeMs / 1000);
    expect(await payloadOf(job)).toBe('changed');
  });

  it('refuses a file that grew or shrank since it was queued', async () => {
    const grown = queued('d.pdf', content);
    writeFileSync(grown.sourcePath, Buffer.concat([content, Buffer.from('more')]));
    expect(await payloadOf(grown)).toBe('changed');
    const shrunk = queued('e.pdf', content);
    writeFileSync(shrunk.sourcePath, content.subarray(0, 1000));
    expect(await payloadOf(shrunk)).toBe('changed');
  });

  it('encrypts on the main thread once the worker is gone', async () => {
    const closed = Sealer.start([{ type: 'aes', keyId: 'site-1', key: new Uint8Array(keyBytes) }], new URL('../../../dist/src-main/core/crypto/seal-worker.js', import.meta.url))!;
    await closed.close();
    const p = await payloadOf(queued('f.pdf', content), { ...withWorker!, sealer: closed });
    if (p === 'changed' || !('buffer' in p.data)) throw new Error('expected a buffer payload');
    expect(p.data.sha256).toBeUndefined();
    expect((await decrypted(p.data.buffer, 'f')).data.equals(content)).toBe(true);
  });
});
