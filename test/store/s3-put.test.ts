// Multipart uploads from a spool file against the real test store: parts streamed in both
// checksum modes, and a resumed upload that sends only the missing parts and stores the exact bytes.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { s3StoreSchema } from '../../src-main/core/config/schema.js';
import { S3Writer, type S3WriterOptions } from '../../src-main/core/store/s3-put.js';
import { METADATA, type PartRecord, type PutRequest, type UploadJournal } from '../../src-main/core/store/types.js';
import { freshBucket, listOpenMultipartUploads, s3Config, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;
const dir = tempDir('s3-put');

/** The queue's journal, kept in memory. */
class Journal implements UploadJournal {
  uploadId: string | null = null;
  partSize: number | null = null;
  readonly done = new Map<number, PartRecord>();
  resumedParts = 0;
  get parts(): PartRecord[] { return [...this.done.values()]; }
  begin(uploadId: string, partSize: number): void { this.uploadId = uploadId; this.partSize = partSize; this.done.clear(); }
  partDone(part: PartRecord): void { this.done.set(part.partNumber, part); }
  resumed(count: number): void { this.resumedParts += count; }
  end(): void { this.uploadId = null; this.partSize = null; this.done.clear(); }
}

/** A writer as the agent makes it; `opts.direct: false` sends parts through the SDK, where a middleware can see them. */
function writer(client: S3Client, bucket: string, over: Record<string, unknown> = {}, opts: S3WriterOptions = {}): S3Writer {
  const cfg = s3StoreSchema.parse({ type: 's3', bucket, region: s3Config().region, endpoint: s3Config().endpoint, forcePathStyle: true, partSizeBytes: 5 * MiB, ...over });
  return new S3Writer(client, cfg, (req) => `upload of ${req.source}`, opts);
}

function request(key: string, file: string, size: number, journal: UploadJournal, extra: Partial<PutRequest> = {}): PutRequest {
  return { key, data: { file, size }, source: file, contentType: 'application/octet-stream', metadata: { [METADATA.job]: `ws-test/${key}` }, journal, ...extra };
}

async function stored(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe.each(['when-required', 'when-supported'] as const)('S3Writer.putFile (checksum %s)', (checksum) => {
  // As store/s3.ts makes it for this setting.
  const mode = checksum === 'when-supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  const client = testS3Client({ requestChecksumCalculation: mode, responseChecksumValidation: mode, maxAttempts: 2 });
  afterAll(() => client.destroy());

  it('stores three spool files sent at once, each byte for byte', async () => {
    const bucket = await freshBucket(`put-${checksum}`, client);
    const w = writer(client, bucket, { checksum, partsInFlight: 3 });
    const files = [23 * MiB + 1, 10 * MiB, 5 * MiB + 7].map((size, i) => {
      const file = join(dir, `${checksum}-${i}.spool`);
      const bytes = randomBytes(size);
      writeFileSync(file, bytes);
      return { file, bytes, key: `dicom/${checksum}/${i}.dcm` };
    });
    const outcomes = await Promise.all(files.map((f) => w.putFile(request(f.key, f.file, f.bytes.length, new Journal()), f.file, f.bytes.length)));
    expect(outcomes.map((o) => o.outcome)).toEqual(['written', 'written', 'written']);
    for (const f of files) expect((await stored(client, bucket, f.key)).equals(f.bytes)).toBe(true);
    expect(await listOpenMultipartUploads(client, bucket)).toEqual([]);
  });

  it('resumes an upload stopped half-way from its parts and stores exactly the spool\'s bytes', async () => {
    const bucket = await freshBucket(`resume-${checksum}`, client);
    const w = writer(client, bucket, { checksum, partsInFlight: 1 });
    const bytes = randomBytes(21 * MiB);
    const file = join(dir, `${checksum}-resume.spool`);
    writeFileSync(file, bytes);
    const journal = new Journal();
    const stop = new AbortController();
    const first = w.putFile(request('dicom/resume.dcm', file, bytes.length, journal, {
      signal: stop.signal, onProgress: (sent) => { if (sent >= 2 * 5 * MiB) stop.abort(); },
    }), file, bytes.length);
    await expect(first).rejects.toThrow();
    expect(journal.done.size).toBe(2);
    const again = await w.putFile(request('dicom/resume.dcm', file, bytes.length, journal), file, bytes.length);
    expect(again.outcome).toBe('written');
    expect(journal.resumedParts).toBe(2);
    expect((await stored(client, bucket, 'dicom/resume.dcm')).equals(bytes)).toBe(true);
  });
});

describe('S3Writer.putFile with a budget of parts for all uploads', () => {
  it('lets an upload alone send up to the whole budget, and keeps several within it together', async () => {
    const client = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const wire = { now: 0, most: 0 };
    client.middlewareStack.add((next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName !== 'UploadPartCommand') return next(args);
      wire.most = Math.max(wire.most, ++wire.now);
      try {
        return await next(args);
      } finally {
        wire.now--;
      }
    }, { step: 'initialize', name: 'countParts' });
    try {
      const bucket = await freshBucket('budget', client);
      const w = writer(client, bucket, { partsInFlight: 2 }, { partBudget: 4, direct: false });
      const files = [0, 1, 2].map((i) => {
        const file = join(dir, `budget-${i}.spool`);
        const bytes = randomBytes(6 * 5 * MiB);
        writeFileSync(file, bytes);
        return { file, bytes, key: `dicom/budget/${i}.dcm` };
      });
      const one = files[0]!;
      await w.putFile(request(one.key, one.file, one.bytes.length, new Journal()), one.file, one.bytes.length);
      expect(wire.most).toBe(4);
      wire.most = 0;
      const rest = files.slice(1);
      await Promise.all(rest.map((f) => w.putFile(request(f.key, f.file, f.bytes.length, new Journal()), f.file, f.bytes.length)));
      expect(wire.most).toBe(4);
      for (const f of files) expect((await stored(client, bucket, f.key)).equals(f.bytes)).toBe(true);
      expect(await listOpenMultipartUploads(client, bucket)).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});

describe('S3Writer.putFile with flexible checksums', () => {
  it('sends each part with the CRC32 of exactly its bytes in its header (through the SDK)', async () => {
    const client = testS3Client({ requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
    const sent = new Map<string, string>();
    client.middlewareStack.add((next) => async (args) => {
      const r = args.request as { query?: Record<string, string>; headers: Record<string, string> };
      if (r.query?.partNumber) sent.set(`${r.headers['content-length']}/${r.query.partNumber}`, r.headers['x-amz-checksum-crc32'] ?? 'none');
      return next(args);
    }, { step: 'finalizeRequest' });
    try {
      const bucket = await freshBucket('crc', client);
      const w = writer(client, bucket, { checksum: 'when-supported' }, { direct: false });
      // The check value of CRC-32 (ISO-HDLC, the one S3 calls CRC32): "123456789" → 0xCBF43926.
      const small = join(dir, 'check.spool');
      writeFileSync(small, '123456789');
      await w.putFile(request('check', small, 9, new Journal()), small, 9);
      expect(sent.get('9/1')).toBe(Buffer.from([0xcb, 0xf4, 0x39, 0x26]).toString('base64'));
      const bytes = randomBytes(11 * MiB);
      const file = join(dir, 'crc.spool');
      writeFileSync(file, bytes);
      await w.putFile(request('crc', file, bytes.length, new Journal()), file, bytes.length);
      const crc = (b: Buffer) => { const o = Buffer.alloc(4); o.writeUInt32BE(crc32(b)); return o.toString('base64'); };
      expect(sent.get(`${5 * MiB}/2`)).toBe(crc(bytes.subarray(5 * MiB, 10 * MiB)));
      expect(sent.get(`${MiB}/3`)).toBe(crc(bytes.subarray(10 * MiB)));
      expect((await stored(client, bucket, 'crc')).equals(bytes)).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
