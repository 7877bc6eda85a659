// Proves the S3 test harness, and pins the store behaviour the upload design relies on.
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, listAllKeys, listOpenMultipartUploads, testS3Client } from '../support/s3.js';

const MiB = 1024 * 1024;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error(`no body for ${key}`);
  return response.Body.transformToByteArray();
}

/** Yields `data` in small pieces so the SDK sees a stream, not a buffer of known size. */
function streamOf(data: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += 256 * 1024) pieces.push(data.subarray(at, at + 256 * 1024));
  return Readable.from(pieces);
}

describe('S3 test store', () => {
  const client = testS3Client();
  let bucket = '';

  beforeAll(async () => {
    bucket = await freshBucket('smoke', client);
  });
  afterAll(() => client.destroy());

  it('returns the bytes that were put', async () => {
    const body = randomBytes(64 * 1024);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'roundtrip/one.bin', Body: body }));
    expect(sha256(await getBytes(client, bucket, 'roundtrip/one.bin'))).toBe(sha256(body));
  });

  it('assembles a 20 MB lib-storage multipart upload and leaves no open upload behind', async () => {
    const body = randomBytes(20 * MiB);
    await new Upload({
      client,
      params: { Bucket: bucket, Key: 'multipart/20mb.bin', Body: streamOf(body) },
      partSize: 5 * MiB,
    }).done();
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/20mb.bin' }));
    expect(head.ContentLength).toBe(20 * MiB);
    // A multipart ETag ends in -<part count>; a plain one would mean lib-storage fell back to PutObject.
    expect(head.ETag).toMatch(/-4"$/);
    expect(sha256(await getBytes(client, bucket, 'multipart/20mb.bin'))).toBe(sha256(body));
    expect(await listOpenMultipartUploads(client, bucket)).toEqual([]);
  });

  it('pages ListObjectsV2 with MaxKeys=2 over 5 objects', async () => {
    const keys = [1, 2, 3, 4, 5].map((n) => `paging/${n}.txt`);
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'paging/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);
    expect(await listAllKeys(client, bucket, 'paging/')).toEqual(keys);
  });

  it('refuses a second PutObject with IfNoneMatch "*" (412) and keeps the first body', async () => {
    const key = 'conditional/once.txt';
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    await expect(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' })),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(Buffer.from(await getBytes(client, bucket, key)).toString()).toBe('first');
  });

  // Verification compares the ETag a write got back with the one a listing (or HEAD) shows.
  it('lists from StartAfter and shows the ETag a write returned (CompleteMultipartUpload: that one or none)', async () => {
    const keys = ['verify/a.pdf', 'verify/b.pdf', 'verify/c.pdf'];
    const etags: string[] = [];
    for (const key of keys) etags.push((await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key, IfNoneMatch: '*' }))).ETag!);
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'verify/', StartAfter: 'verify/b.pd', MaxKeys: 1 }));
    expect(page.Contents?.map((o) => [o.Key, o.ETag])).toEqual([['verify/b.pdf', etags[1]]]);
    expect(page.IsTruncated).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'verify/c.pdf' }));
    expect(head.ETag).toBe(etags[2]);
    const key = 'verify/multipart.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(MiB) }));
    const done = await client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }));
    // Ceph Pacific answers with an empty ETag (the queue then verifies with HEAD); AWS with the object's.
    const stored = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
    expect(stored).toMatch(/-1"$/);
    expect([stored, '']).toContain(done.ETag ?? '');
  });

  it('lists the parts of an open multipart upload, page by page', async () => {
    const key = 'resume/open.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    try {
      for (const PartNumber of [1, 2]) {
        await client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: randomBytes(5 * MiB) }),
        );
      }
      const first = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId, MaxParts: 1 }));
      expect(first.Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([[1, 5 * MiB]]);
      expect(first.IsTruncated).toBe(true);
      const rest = await client.send(
        new ListPartsCommand({ Bucket: bucket, Key: key, UploadId, PartNumberMarker: first.NextPartNumberMarker }),
      );
      expect(rest.Parts?.map((part) => part.PartNumber)).toEqual([2]);
    } finally {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    }
  });
});

// Ceph Pacific's RGW answers aws-chunked uploads with a trailing checksum (what the SDK sends for a
// stream Body under the default WHEN_SUPPORTED) with 411 MissingContentLength. These are the
// combinations that do work; see the harness report before changing the app's client options.
describe('S3 test store with request checksums', () => {
  const body = randomBytes(3 * MiB);
  const whenRequired = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
  const whenSupported = testS3Client({ requestChecksumCalculation: 'WHEN_SUPPORTED' });
  let bucket = '';

  beforeAll(async () => {
    bucket = await freshBucket('checksums', whenRequired);
  });
  afterAll(() => {
    whenRequired.destroy();
    whenSupported.destroy();
  });

  it('accepts PutObject with a stream Body of known ContentLength under WHEN_REQUIRED', async () => {
    await whenRequired.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'put-stream', Body: streamOf(body), ContentLength: body.length }),
    );
    expect(sha256(await getBytes(whenRequired, bucket, 'put-stream'))).toBe(sha256(body));
  });

  it('accepts PutObject with a Buffer Body under WHEN_SUPPORTED', async () => {
    await whenSupported.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-buffer', Body: body }));
    expect(sha256(await getBytes(whenSupported, bucket, 'put-buffer'))).toBe(sha256(body));
  });

  // lib-storage buffers each part, so the SDK sends the CRC32 as a header, not an aws-chunked trailer.
  it.each([
    ['WHEN_REQUIRED', whenRequired],
    ['WHEN_SUPPORTED', whenSupported],
  ])('accepts a lib-storage multipart upload of a stream under %s', async (mode, client) => {
    const data = randomBytes(12 * MiB);
    const key = `upload-${mode}`;
    await new Upload({ client, params: { Bucket: bucket, Key: key, Body: streamOf(data) }, partSize: 5 * MiB }).done();
    expect(sha256(await getBytes(client, bucket, key))).toBe(sha256(data));
  });
});
