// Records held in memory are written with one PutObject outside the SDK's pipeline (s3-direct.ts),
// against the real RGW: the object it stores is the one the SDK path stores (type, metadata, class,
// tags, ETag), keys keep their exact spelling, the exactly-once rules hold, the CRC32 header goes out
// when checksums are on, a kept-alive connection closed under a write is retried once, and refusals
// become the same StoreErrors. The verifier's listing pages go the same way and read as the SDK's.
// Headers are seen by a small recording proxy in front of RGW.
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { s3StoreSchema } from '../../src-main/core/config/schema.js';
import { toStoreError } from '../../src-main/core/store/errors.js';
import { parseListPage, S3ResponseError } from '../../src-main/core/store/s3-direct.js';
import { S3Writer } from '../../src-main/core/store/s3-put.js';
import { createS3Client, S3Store } from '../../src-main/core/store/s3.js';
import { METADATA, StoreError, type PartRecord, type PutRequest, type UploadJournal } from '../../src-main/core/store/types.js';
import { freshBucket, listAllKeys, listOpenMultipartUploads, s3Config, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

/**
 * A proxy to RGW that records each request's method, path and headers; `resetSecond` closes each
 * connection as its second request arrives, once; `hold` never answers (a store that hangs).
 */
async function recordingProxy(opts: { resetSecond?: boolean; hold?: boolean } = {}) {
  const upstream = new URL(s3Config().endpoint);
  const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
  const perSocket = new Map<Socket, number>();
  let resets = 0;
  const server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (opts.resetSecond && n === 2 && resets === 0) {
      resets++;
      req.socket.destroy();
      return;
    }
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    if (opts.hold) {
      req.resume();
      return;
    }
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get resets() { return resets; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

type Proxy = Awaited<ReturnType<typeof recordingProxy>>;

/**
 * Runs `f` on a workstation whose clock is `offsetMs` off. Only Date is faked (and keeps running):
 * the store, in its own process, keeps the true time.
 */
async function withClockOff(offsetMs: number, f: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  try {
    vi.setSystemTime(Date.now() + offsetMs);
    await f();
  } finally {
    vi.useRealTimers();
  }
}

/** Runs `f` with a recording proxy and a client that goes through it, and closes both after. */
async function withProxy(opts: Parameters<typeof recordingProxy>[0], f: (proxy: Proxy, viaProxy: S3Client) => Promise<void>): Promise<void> {
  const proxy = await recordingProxy(opts);
  const viaProxy = testS3Client({ endpoint: proxy.endpoint });
  try {
    await f(proxy, viaProxy);
  } finally {
    viaProxy.destroy();
    await proxy.close();
  }
}

function store(client: S3Client, bucket: string, over: Record<string, unknown> = {}, direct = true): S3Store {
  return new S3Store(client, s3StoreSchema.parse({ type: 's3', bucket, region: s3Config().region, forcePathStyle: true, ...over }), { direct });
}

function put(s: S3Store, key: string, body: Buffer, job = `ws-d/${key}`, extra: Partial<PutRequest> = {}) {
  return s.put({ key, data: { buffer: body }, source: `/data/${key}`, contentType: 'application/pdf', metadata: { [METADATA.job]: job, [METADATA.kind]: 'ecg-report' }, ...extra });
}

async function body(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const crcOf = (b: Buffer) => { const o = Buffer.alloc(4); o.writeUInt32BE(crc32(b) >>> 0); return o.toString('base64'); };

describe('PutObject outside the SDK pipeline', () => {
  const client = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  afterAll(() => client.destroy());

  it('stores what the SDK path stores: the bytes, type, metadata, storage class and tags, and returns the stored ETag', async () => {
    const bucket = await freshBucket('direct-same', client);
    const over = { storageClass: 'STANDARD_IA', tags: { site: 'ward 3', 'cost-centre': 'cardio/1' } };
    const bytes = randomBytes(150_000);
    const direct = await put(store(client, bucket, over), 'direct.pdf', bytes);
    const sdk = await put(store(client, bucket, over, false), 'sdk.pdf', bytes);
    expect(direct.outcome).toBe('written');
    const describe = async (key: string) => {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const tags = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return { type: h.ContentType, size: h.ContentLength, etag: h.ETag, cls: h.StorageClass, kind: h.Metadata?.[METADATA.kind],
        tags: (tags.TagSet ?? []).map((t) => `${t.Key}=${t.Value}`).sort() };
    };
    const d = await describe('direct.pdf');
    expect(d).toEqual(await describe('sdk.pdf'));
    expect(d).toMatchObject({ type: 'application/pdf', size: bytes.length, cls: 'STANDARD_IA', kind: 'ecg-report', tags: ['cost-centre=cardio/1', 'site=ward 3'] });
    expect(direct.etag).toBe(d.etag);
    expect(sdk.etag).toBe(d.etag);
    expect((await body(client, bucket, 'direct.pdf')).equals(bytes)).toBe(true);
  });

  // Not non-ASCII: Ceph RGW 16 refuses the signature of such a key from the SDK path as well.
  it('keeps the exact spelling of keys with spaces, plus signs, brackets and other reserved characters', async () => {
    const bucket = await freshBucket('direct-keys', client);
    const s = store(client, bucket);
    const keys = ['dicom/2024/05/01/1.2.3/a b+c.dcm', 'ecg-reports/2024/05/01/Muller (2)!*,;:@$.pdf', "ecg-reports/2024/05/01/o'brien~x=1&y.pdf"];
    for (const [i, key] of keys.entries()) await put(s, key, Buffer.from(`record ${i}`));
    expect((await listAllKeys(client, bucket)).sort()).toEqual([...keys].sort());
    expect((await body(client, bucket, keys[1]!)).toString()).toBe('record 1');
  });

  it('never replaces an object: its own job finds it already there, another job gets a conflict naming the key, and the first bytes stay', async () => {
    const bucket = await freshBucket('direct-once', client);
    const s = store(client, bucket);
    const first = randomBytes(5000);
    expect((await put(s, 'r.pdf', first, 'ws-d/1')).outcome).toBe('written');
    const again = await put(s, 'r.pdf', first, 'ws-d/1');
    expect(again.outcome).toBe('already-ours');
    expect(again.found?.size).toBe(first.length);
    const err = await put(s, 'r.pdf', randomBytes(5000), 'ws-d/2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'conflict' });
    expect((err as Error).message).toContain(`s3://${bucket}/r.pdf`);
    expect((await body(client, bucket, 'r.pdf')).equals(first)).toBe(true);
  });

  it('signs with a payload hash it is given, and the store refuses a body that does not match it', async () => {
    const bucket = await freshBucket('direct-hash', client);
    const s = store(client, bucket);
    const bytes = randomBytes(20_000);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect((await s.put({ key: 'ok', data: { buffer: bytes, sha256 }, source: '/data/ok', contentType: 'application/octet-stream', metadata: { [METADATA.job]: 'ws-d/ok' } })).outcome).toBe('written');
    const wrong = createHash('sha256').update('other').digest('hex');
    await expect(s.put({ key: 'bad', data: { buffer: bytes, sha256: wrong }, source: '/data/bad', contentType: 'application/octet-stream', metadata: { [METADATA.job]: 'ws-d/bad' } }))
      .rejects.toBeInstanceOf(StoreError);
    expect(await s.head('bad')).toBeNull();
  });

  it.each(['when-required', 'when-supported'] as const)('with checksum %s, sends the CRC32 header only when checksums are on, and the store keeps the bytes', async (checksum) => {
    await withProxy({}, async (proxy, viaProxy) => {
      const bucket = await freshBucket(`direct-crc-${checksum}`, viaProxy);
      const bytes = Buffer.from('123456789');
      await put(store(viaProxy, bucket, { checksum }), 'check.pdf', bytes);
      const sent = proxy.seen.filter((r) => r.method === 'PUT' && r.path.endsWith('/check.pdf'));
      expect(sent).toHaveLength(1);
      // The check value of CRC-32 (ISO-HDLC): "123456789" → 0xCBF43926.
      expect(sent[0]!.headers['x-amz-checksum-crc32']).toBe(checksum === 'when-supported' ? crcOf(bytes) : undefined);
      expect(sent[0]!.headers['if-none-match']).toBe('*');
      expect((await body(client, bucket, 'check.pdf')).equals(bytes)).toBe(true);
    });
  });

  it('sends multipart parts from the spool unsigned, each with the CRC32 of exactly its bytes when checksums are on', async () => {
    await withProxy({}, async (proxy, viaProxy) => {
      const bucket = await freshBucket('direct-parts', viaProxy);
      const MiB = 1024 * 1024;
      const cfg = s3StoreSchema.parse({ type: 's3', bucket, region: s3Config().region, forcePathStyle: true, partSizeBytes: 5 * MiB, checksum: 'when-supported' });
      const w = new S3Writer(viaProxy, cfg, (req) => `upload of ${req.source}`);
      const bytes = randomBytes(11 * MiB + 3);
      const file = join(tempDir('direct-parts'), 'x.spool');
      writeFileSync(file, bytes);
      const parts: PartRecord[] = [];
      const journal: UploadJournal = {
        uploadId: null, partSize: null, parts,
        begin(id, size) { Object.assign(this, { uploadId: id, partSize: size }); },
        partDone(p) { parts.push(p); },
        resumed() {}, end() { Object.assign(this, { uploadId: null }); },
      };
      const r = await w.putFile({ key: 'dicom/x.dcm', data: { file, size: bytes.length }, source: file, contentType: 'application/octet-stream',
        metadata: { [METADATA.job]: 'ws-d/x' }, journal }, file, bytes.length);
      expect(r.outcome).toBe('written');
      const sent = proxy.seen.filter((q) => q.method === 'PUT' && q.path.includes('partNumber='));
      expect(sent.map((q) => new URL(q.path, 'http://x').searchParams.get('partNumber')).sort()).toEqual(['1', '2', '3']);
      for (const q of sent) {
        const n = Number(new URL(q.path, 'http://x').searchParams.get('partNumber'));
        expect(q.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
        expect(q.headers['x-amz-checksum-crc32']).toBe(crcOf(bytes.subarray((n - 1) * 5 * MiB, Math.min(bytes.length, n * 5 * MiB))));
      }
      expect((await body(client, bucket, 'dicom/x.dcm')).equals(bytes)).toBe(true);
      expect(await listOpenMultipartUploads(client, bucket)).toEqual([]);
    });
  });

  it('sends a write again on a new connection when the kept-alive one is closed under it, and stores it once', async () => {
    await withProxy({ resetSecond: true }, async (proxy, viaProxy) => {
      const bucket = await freshBucket('direct-reset', client);
      const s = store(viaProxy, bucket);
      await put(s, 'one.pdf', Buffer.from('one'));
      // The second request would reuse the first one's connection, which the proxy closes.
      expect((await put(s, 'two.pdf', Buffer.from('two'))).outcome).toBe('written');
      expect(proxy.resets).toBe(1);
      expect((await body(client, bucket, 'two.pdf')).toString()).toBe('two');
      s.close();
    });
  });

  it('gives up a write when its upload is stopped, and nothing is stored', async () => {
    await withProxy({ hold: true }, async (proxy, viaProxy) => {
      const bucket = await freshBucket('direct-abort', client);
      const s = store(viaProxy, bucket);
      const stop = new AbortController();
      const write = put(s, 'held.pdf', randomBytes(100_000), 'ws-d/held', { signal: stop.signal }).catch((e: unknown) => e);
      await expect.poll(() => proxy.seen.length).toBe(1);
      stop.abort();
      expect(await write).toMatchObject({ code: 'network', message: expect.stringContaining('upload stopped') as unknown });
      const already = new AbortController();
      already.abort();
      expect(await put(s, 'never.pdf', Buffer.from('x'), 'ws-d/never', { signal: already.signal }).catch((e: unknown) => e)).toMatchObject({ code: 'network' });
      expect(proxy.seen).toHaveLength(1);
      expect(await store(client, bucket).head('held.pdf')).toBeNull();
      s.close();
    });
  });

  it('writes from a workstation whose clock is an hour ahead: the first refusal teaches it the offset and the write goes again at once', async () => {
    await withProxy({}, async (proxy, viaProxy) => {
      const bucket = await freshBucket('direct-skew', client);
      const s = store(viaProxy, bucket);
      await withClockOff(3600_000, async () => {
        expect(viaProxy.config.systemClockOffset).toBe(0);
        expect((await put(s, 'first.pdf', Buffer.from('first'))).outcome).toBe('written');
        const puts = () => proxy.seen.filter((r) => r.method === 'PUT').length;
        // Refused for its time, then accepted: two requests, one object.
        expect(puts()).toBe(2);
        expect(Math.abs(viaProxy.config.systemClockOffset + 3600_000)).toBeLessThan(60_000);
        expect((await put(s, 'second.pdf', Buffer.from('second'))).outcome).toBe('written');
        expect(puts()).toBe(3);
        expect((await s.listPage('', '', 10)).objects.map((o) => o.key).sort()).toEqual(['first.pdf', 'second.pdf']);
      });
      expect((await body(client, bucket, 'second.pdf')).toString()).toBe('second');
      s.close();
    });
  });

  it('signs share links with the store\'s time on a workstation whose clock is an hour slow', async () => {
    const bucket = await freshBucket('direct-skew-link', client);
    const slow = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const s = store(slow, bucket);
    try {
      await withClockOff(-3600_000, async () => {
        await put(s, 'shared.pdf', Buffer.from('shared'));
        expect(await s.head('shared.pdf')).not.toBeNull();
        const url = await s.presignGet('shared.pdf', 600);
        const answer = await fetch(url);
        expect(answer.status).toBe(200);
        expect(await answer.text()).toBe('shared');
      });
    } finally {
      s.close();
      slow.destroy();
    }
  });

  it('abandons requests the store never answers after store.idleTimeoutSeconds, its own and the SDK\'s, as an unreachable store', async () => {
    await withProxy({ hold: true }, async (proxy) => {
      const bucket = await freshBucket('direct-idle', client);
      const { region, accessKeyId, secretAccessKey } = s3Config();
      const cfg = s3StoreSchema.parse({ type: 's3', bucket, region, endpoint: proxy.endpoint, forcePathStyle: true, idleTimeoutSeconds: 1 });
      vi.stubEnv('AWS_ACCESS_KEY_ID', accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', secretAccessKey);
      const held = createS3Client(cfg, { source: 'env' });
      try {
        const s = new S3Store(held, cfg);
        const write = await put(s, 'held.pdf', randomBytes(50_000)).catch((e: unknown) => e);
        expect(write).toMatchObject({ code: 'network', retryable: true, condition: 'unreachable' });
        expect((write as Error).message).toContain('store.idleTimeoutSeconds');
        expect((write as Error).message).toContain('held.pdf');
        expect(await s.head('held.pdf').catch((e: unknown) => e)).toMatchObject({ code: 'network', condition: 'unreachable' });
        // Both were sent, and neither was answered.
        expect(proxy.seen.map((r) => r.method)).toContain('PUT');
        expect(proxy.seen.map((r) => r.method)).toContain('HEAD');
        s.close();
      } finally {
        held.destroy();
        vi.unstubAllEnvs();
      }
    });
  });

  it('names the clock, not the credentials, when the store refuses a request\'s time, and tries again', () => {
    const refusal = new S3ResponseError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403, {});
    const e = toStoreError(refusal, 'upload of /data/r.pdf');
    expect(e).toMatchObject({ code: 'network', retryable: true });
    expect(e.message).toMatch(/^upload of \/data\/r\.pdf: .*clock/);
  });

  it('turns refusals and an unreachable store into the StoreErrors the queue acts on', async () => {
    const bucket = await freshBucket('direct-errors', client);
    const { endpoint, region, accessKeyId } = s3Config();
    const wrongKey = testS3Client({ credentials: { accessKeyId, secretAccessKey: 'not-the-secret-key-000000000000000000000' } });
    const auth = await put(store(wrongKey, bucket), 'a.pdf', Buffer.from('a')).catch((e: unknown) => e);
    expect(auth).toMatchObject({ code: 'auth' });
    expect((auth as Error).message).toContain('a.pdf');
    wrongKey.destroy();
    const missing = await put(store(client, `${bucket}-missing`), 'a.pdf', Buffer.from('a')).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'not-found' });
    expect((missing as Error).message).toContain('store.bucket');
    // A port nobody listens on (the proxy's, once closed).
    const gone = await recordingProxy();
    await gone.close();
    const down = testS3Client({ endpoint: gone.endpoint, region });
    const net = await put(store(down, bucket), 'a.pdf', Buffer.from('a')).catch((e: unknown) => e);
    expect(net).toMatchObject({ code: 'network', condition: 'unreachable' });
    down.destroy();
    expect(endpoint).not.toBe(gone.endpoint);
  });
});

describe('ListObjectsV2 pages outside the SDK pipeline (the verifier\'s listings)', () => {
  const client = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  afterAll(() => client.destroy());

  it('shows what the SDK\'s page shows: keys with reserved characters, sizes, ETags and times, page ends and start-after', async () => {
    const bucket = await freshBucket('direct-list', client);
    const folder = 'ecg-reports/2024/05/01/';
    const names = ['a b+c.pdf', 'Muller (2)!*,;:@$.pdf', "o'brien~x=1&y.pdf", 'r<1>"q".pdf', 'z.pdf', 'sub/deeper.pdf'];
    for (const [i, name] of names.entries()) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}${name}`, Body: randomBytes(100 + i * 37) }));
    }
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'ecg-reports/2024/05/02/other.pdf', Body: 'x' }));
    await withProxy({}, async (proxy, viaProxy) => {
      const direct = store(viaProxy, bucket);
      const sdk = store(client, bucket, {}, false);
      for (const [after, max] of [['', 1000], ['', 2], [`${folder}a b+c.pd`, 3], [`${folder}r<1>"q".pd`, 10], [`${folder}zz`, 5]] as const) {
        const page = await direct.listPage(folder, after, max);
        expect(page).toEqual(await sdk.listPage(folder, after, max));
      }
      const full = await direct.listPage(folder, '', 1000);
      expect(full.objects.map((o) => o.key).sort()).toEqual(names.map((n) => `${folder}${n}`).sort());
      expect(full.objects.every((o) => /^"[0-9a-f]{32}"$/.test(o.etag ?? '') && o.size >= 100 && o.lastModified.getTime() > 0)).toBe(true);
      expect((await direct.listPage(folder, '', 2)).truncated).toBe(true);
      // Every page went out as our own GET, not through the SDK (which names itself in each request).
      const lists = proxy.seen.filter((r) => r.method === 'GET' && r.path.includes('list-type=2'));
      expect(lists).toHaveLength(7);
      expect(lists.every((r) => r.headers['amz-sdk-invocation-id'] === undefined)).toBe(true);
    });
  });

  it('reads entities and character references in keys as the SDK\'s parser does', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>
      <Contents><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x1F600;.pdf</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified>
      <ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>
      <Contents><Key>plain.pdf</Key><Size>0</Size></Contents></ListBucketResult>`;
    expect(parseListPage(xml)).toEqual({
      truncated: true,
      objects: [
        { key: 'a & b <c> "d" \'e\' é😀.pdf', size: 42, lastModified: new Date('2024-05-01T10:00:00.000Z'), etag: '"0123456789abcdef0123456789abcdef"' },
        { key: 'plain.pdf', size: 0, lastModified: new Date(0) },
      ],
    });
    expect(parseListPage('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>')).toEqual({ objects: [], truncated: false });
  });

  it('turns refusals into the StoreErrors the SDK path gives', async () => {
    const bucket = await freshBucket('direct-list-errors', client);
    const missing = `${bucket}-missing`;
    const direct = await store(client, missing).listPage('a/', '', 10).catch((e: unknown) => e);
    const sdk = await store(client, missing, {}, false).listPage('a/', '', 10).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(StoreError);
    expect(direct).toMatchObject({ code: (sdk as StoreError).code, retryable: (sdk as StoreError).retryable });
    expect((direct as Error).message).toContain(missing);
  });
});
