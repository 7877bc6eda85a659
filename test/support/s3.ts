// S3 helpers for tests: a client for the injected endpoint, unique buckets, complete listings.
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type MultipartUpload,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { S3TestConfig } from './global-setup.js';

export function s3Config(): S3TestConfig {
  return inject('s3');
}

/** A client for the test store; `opts` override anything, e.g. checksum behaviour or retries. */
export function testS3Client(opts: Partial<S3ClientConfig> = {}): S3Client {
  const { endpoint, accessKeyId, secretAccessKey, region } = s3Config();
  return new S3Client({
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
    // RGW on 127.0.0.1 has no DNS name for virtual-hosted buckets.
    forcePathStyle: true,
    ...opts,
  });
}

/** Creates a bucket no other test (or earlier run against the same store) can share. */
export async function freshBucket(prefix: string, client?: S3Client): Promise<string> {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '');
  const name = `${clean || 'test'}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const s3 = client ?? testS3Client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    // Only a client made here is ours to close; its keep-alive sockets would outlive the test.
    if (!client) s3.destroy();
  }
  return name;
}

export async function listAllKeys(client: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Record objects only: without the day index (index/…) and share copies (shares/…). */
export async function listRecordKeys(client: S3Client, bucket: string): Promise<string[]> {
  return (await listAllKeys(client, bucket)).filter((k) => !/(^|\/)(index|shares)\//.test(k));
}

export async function listOpenMultipartUploads(client: S3Client, bucket: string): Promise<MultipartUpload[]> {
  const uploads: MultipartUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
    );
    uploads.push(...(page.Uploads ?? []));
    if (!page.IsTruncated) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
