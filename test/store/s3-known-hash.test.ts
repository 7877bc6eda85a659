// A buffer whose SHA-256 is already known (the sealing worker computes it) is signed with that hash
// instead of being hashed again on the main thread; the store checks the body against it.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3StoreSchema } from '../../src-main/core/config/schema.js';
import { S3Store } from '../../src-main/core/store/s3.js';
import { METADATA } from '../../src-main/core/store/types.js';
import { freshBucket, testS3Client } from '../support/s3.js';

describe('PutObject with a known payload hash', () => {
  const client = testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  let store: S3Store;
  let bucket = '';
  beforeAll(async () => {
    bucket = await freshBucket('known-hash', client);
    store = new S3Store(client, s3StoreSchema.parse({ type: 's3', bucket, region: 'us-east-1', forcePathStyle: true }));
  });
  afterAll(() => client.destroy());
  const put = (key: string, buffer: Buffer, sha256: string) => store.put({
    key, data: { buffer, sha256 }, source: `/data/${key}`, contentType: 'application/octet-stream', metadata: { [METADATA.job]: `ws/${key}` },
  });

  it('stores the body when the hash is its own', async () => {
    const body = randomBytes(200_000);
    const r = await put('right', body, createHash('sha256').update(body).digest('hex'));
    expect(r.outcome).toBe('written');
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'right' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('is refused by the store when the hash is not the body\'s, and nothing is stored', async () => {
    const body = randomBytes(1000);
    const other = createHash('sha256').update(Buffer.from('something else')).digest('hex');
    await expect(put('wrong', body, other)).rejects.toThrow();
    expect(await store.head('wrong')).toBeNull();
  });
});
