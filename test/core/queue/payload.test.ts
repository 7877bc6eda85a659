// What a job sends: the queued file's bytes, encrypted, from memory or from a spool file; a file that
// is not what was queued is caught and nothing of it is kept.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decrypting, FRAME_LENGTH, stripNamedHeader } from '../../../src-main/core/crypto/envelope.js';
import { aesKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { openDatabase } from '../../../src-main/core/db/open.js';
import { hashFile } from '../../../src-main/core/watch/intake.js';
import { JobRepository, type Job } from '../../../src-main/core/queue/jobs.js';
import { encryptFile } from '../../../src-main/core/queue/ciphertext.js';
import { readFrames } from '../../../src-main/core/queue/plaintext.js';
import { EncryptionTurns, preparePayload, type Payload, type PayloadOptions } from '../../../src-main/core/queue/payload.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('payload');
const keyring = aesKeyring('test-key', randomBytes(32));
const jobs = new JobRepository(openDatabase(join(dir, 'medrelay.db')));
const MB = 1024 * 1024;
let serial = 0;

function options(over: Partial<PayloadOptions> = {}): PayloadOptions {
  return {
    encryption: { keyring, keyIds: ['aes:test-key'] }, workstationId: 'ws-test', spoolDir: join(dir, 'spool'),
    inMemoryLimit: 5 * MB, forgetUpload: async () => {}, ...over,
  };
}

/** Writes `bytes` to a new file and queues it the way intake does; `identity: false` as older versions did. */
async function queued(bytes: Buffer, name = `IM_${++serial}.dcm`, kind: 'dicom' | 'ecg-report' = 'dicom', identity = true): Promise<Job> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return queuedFile(path, kind, identity);
}

async function queuedFile(path: string, kind: 'dicom' | 'ecg-report' = 'dicom', identity = true): Promise<Job> {
  const key = kind === 'dicom' ? `dicom/2024/01/01/1.2/1.2.3/${serial}.dcm` : `ecg-reports/2024/01/01/opaque-${serial}`;
  const hashed = await hashFile(path, Date.now() + 5000);
  if (hashed === 'changed') throw new Error(`${path} changed while hashed`);
  const r = jobs.enqueue({
    sourcePath: path, size: hashed.size, mtimeMs: hashed.mtimeMs, sha256: hashed.sha256, fileIdentity: identity ? hashed.identity : null, kind,
    recordDate: '2024-01-01', objectKey: key, contentType: 'application/octet-stream',
  });
  return r.job;
}

async function stored(payload: Payload): Promise<Buffer> {
  return 'buffer' in payload.data ? payload.data.buffer : readFileSync(payload.data.file);
}

async function decrypt(ciphertext: Buffer, named = false): Promise<{ plain: Buffer; name: string | null }> {
  const chunks: Buffer[] = [];
  let name: string | null = null;
  const stages: NodeJS.ReadWriteStream[] = [decrypting(keyring)];
  if (named) stages.push(stripNamedHeader((h) => { name = h.originalName; }));
  await pipeline([Readable.from([ciphertext]), ...stages, new Writable({ write(c: Buffer, _e, done) { chunks.push(c); done(); } })]);
  return { plain: Buffer.concat(chunks), name };
}

describe('preparePayload', () => {
  it('spools a large record as ciphertext that decrypts to the file, across frame boundaries', async () => {
    const bytes = randomBytes(3 * FRAME_LENGTH + 12_345);
    const job = await queued(bytes);
    const payload = await preparePayload(job, options({ inMemoryLimit: MB }));
    if (payload === 'changed') throw new Error('unexpected');
    expect('file' in payload.data).toBe(true);
    const ciphertext = await stored(payload);
    expect(payload.storedSize).toBe(ciphertext.length);
    expect((await decrypt(ciphertext)).plain.equals(bytes)).toBe(true);
    expect(readdirSync(join(dir, 'spool')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('gives a resumed upload its spool back untouched, and makes new ciphertext only after forgetting the upload', async () => {
    const job = await queued(randomBytes(2 * MB + 3));
    let forgotten = 0;
    const opts = options({ inMemoryLimit: MB, forgetUpload: async () => { forgotten++; } });
    const first = await preparePayload(job, opts);
    if (first === 'changed' || !('file' in first.data)) throw new Error('unexpected');
    const bytes = readFileSync(first.data.file);
    expect(forgotten).toBe(1);
    // As after a crash with parts journaled: the same ciphertext, byte for byte, no new encryption.
    const resumed = await preparePayload({ ...job, uploadId: 'upload-1', storedSize: bytes.length }, opts);
    if (resumed === 'changed' || !('file' in resumed.data)) throw new Error('unexpected');
    expect(readFileSync(resumed.data.file).equals(bytes)).toBe(true);
    expect(forgotten).toBe(1);
    // A spool of another size is not the one the parts came from: the upload is forgotten first.
    const redone = await preparePayload({ ...job, uploadId: 'upload-1', storedSize: bytes.length + 1 }, opts);
    if (redone === 'changed' || !('file' in redone.data)) throw new Error('unexpected');
    expect(forgotten).toBe(2);
    expect(readFileSync(redone.data.file).equals(bytes)).toBe(false);
    expect((await decrypt(readFileSync(redone.data.file))).plain.equals((await decrypt(bytes)).plain)).toBe(true);
  });

  it('encrypts a small record into memory, with the name header when the key hides the name', async () => {
    const bytes = randomBytes(FRAME_LENGTH + 77);
    const job = await queued(bytes, `ECG_Report_20240101_0000${++serial}.pdf`, 'ecg-report');
    const payload = await preparePayload(job, options());
    if (payload === 'changed') throw new Error('unexpected');
    expect(payload.format).toBe('esdk2-named');
    expect('buffer' in payload.data).toBe(true);
    const back = await decrypt(await stored(payload), true);
    expect(back.name).toBe(`ECG_Report_20240101_0000${serial}.pdf`);
    expect(back.plain.equals(bytes)).toBe(true);
  });

  it('sends an empty file as an empty message', async () => {
    const job = await queued(Buffer.alloc(0));
    const payload = await preparePayload(job, options());
    if (payload === 'changed') throw new Error('unexpected');
    expect((await decrypt(await stored(payload))).plain.length).toBe(0);
  });

  it('reports a file whose bytes changed after it was queued, and keeps no spool of it', async () => {
    const bytes = randomBytes(2 * MB);
    const job = await queued(bytes);
    bytes[MB] = bytes[MB]! ^ 0xff;
    writeFileSync(job.sourcePath, bytes);
    expect(await preparePayload(job, options({ inMemoryLimit: MB }))).toBe('changed');
    expect(readdirSync(join(dir, 'spool')).filter((n) => n.startsWith(`${job.id}.`))).toEqual([]);
  });

  it('reports a file rewritten after it was queued with its size and mtime put back', async () => {
    const bytes = randomBytes(2 * MB);
    const path = join(dir, `IM_${++serial}.dcm`);
    writeFileSync(path, bytes);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const job = await queuedFile(path);
    expect(job.fileIdentity).not.toBeNull();
    await new Promise((r) => setTimeout(r, 20));
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('rewritten'), 0, 9, MB);
    closeSync(fd);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    expect(await preparePayload(job, options({ inMemoryLimit: MB }))).toBe('changed');
    expect(await preparePayload(job, options({ inMemoryLimit: 4 * MB }))).toBe('changed');
  });

  it('uploads a job queued by an older version (no identity), checking its hash instead', async () => {
    const bytes = randomBytes(2 * MB + 5);
    const job = await queued(bytes, undefined, 'dicom', false);
    expect(job.fileIdentity).toBeNull();
    const payload = await preparePayload(job, options({ inMemoryLimit: MB }));
    if (payload === 'changed') throw new Error('unexpected');
    expect((await decrypt(await stored(payload))).plain.equals(bytes)).toBe(true);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(job.sourcePath, bytes);
    expect(await preparePayload(job, options({ inMemoryLimit: MB }))).toBe('changed');
  });

  it('reports a file that grew or shrank after it was queued', async () => {
    const grown = await queued(randomBytes(1000));
    writeFileSync(grown.sourcePath, randomBytes(1001));
    expect(await preparePayload(grown, options())).toBe('changed');
    const shrunk = await queued(randomBytes(2 * MB));
    writeFileSync(shrunk.sourcePath, randomBytes(MB));
    expect(await preparePayload(shrunk, options({ inMemoryLimit: MB }))).toBe('changed');
  });

  it('stores a small record as it is when there is no client-side encryption', async () => {
    const bytes = randomBytes(300_000);
    const job = await queued(bytes);
    const payload = await preparePayload(job, options({ encryption: null }));
    if (payload === 'changed') throw new Error('unexpected');
    expect(payload.format).toBe('plain');
    expect((await stored(payload)).equals(bytes)).toBe(true);
  });
});

describe('readFrames', () => {
  it('catches a file written while it is being read, though its identity matched when reading began', async () => {
    const job = await queued(randomBytes(3 * FRAME_LENGTH));
    let chunks = 0;
    const verdict = await readFrames(job, FRAME_LENGTH, null, async () => {
      if (++chunks === 1) {
        const fd = openSync(job.sourcePath, 'r+');
        writeSync(fd, Buffer.from('late write'), 0, 10, 2 * FRAME_LENGTH);
        closeSync(fd);
      }
    });
    expect(chunks).toBe(3);
    expect(verdict).toBe('changed');
  });

  it('hands over the name header and the file in frame-sized chunks', async () => {
    const bytes = randomBytes(2 * FRAME_LENGTH + 10);
    const job = await queued(bytes);
    const head = Buffer.from('HEAD\n');
    const sizes: number[] = [];
    const seen: Buffer[] = [];
    expect(await readFrames(job, FRAME_LENGTH, head, async (c) => { sizes.push(c.length); seen.push(Buffer.from(c)); })).toBe('read');
    expect(sizes).toEqual([FRAME_LENGTH, FRAME_LENGTH, head.length + 10]);
    expect(Buffer.concat(seen).equals(Buffer.concat([head, bytes]))).toBe(true);
  });
});

describe('encryptFile', () => {
  it('fails with the sink\'s error, and finishes the message instead of breaking the process', async () => {
    const job = await queued(randomBytes(3 * FRAME_LENGTH));
    let writes = 0;
    let closed = false;
    const sink = {
      async write() { if (++writes === 2) throw new Error('disk full'); },
      async close() { closed = true; },
    };
    await expect(encryptFile(job, { keyring, keyIds: [] }, { 'medrelay-format': '1' }, null, sink)).rejects.toThrow('disk full');
    expect(closed).toBe(true);
  });
});

describe('EncryptionTurns', () => {
  it('runs one encryption at a time, in the order they came, and goes on after one fails', async () => {
    const turns = new EncryptionTurns();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) => turns.run(async () => {
      running++;
      log.push(`${name}:${running}`);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (fail) throw new Error(name);
      return name;
    });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(log).toEqual(['a:1', 'b:1', 'c:1']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('lets two records share turns and still encrypts each to its own bytes', async () => {
    const turns = new EncryptionTurns();
    const a = randomBytes(2 * MB + 1);
    const b = randomBytes(3 * MB + 2);
    const [ja, jb] = [await queued(a), await queued(b)];
    const [pa, pb] = await Promise.all([preparePayload(ja, options({ inMemoryLimit: MB, turns })), preparePayload(jb, options({ inMemoryLimit: MB, turns }))]);
    if (pa === 'changed' || pb === 'changed') throw new Error('unexpected');
    expect((await decrypt(await stored(pa))).plain.equals(a)).toBe(true);
    expect((await decrypt(await stored(pb))).plain.equals(b)).toBe(true);
  });
});
