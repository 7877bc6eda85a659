// The S3 (or S3-compatible) store. Uploads go through lib-storage, which buffers at most
// partSize × partsInFlight per upload.
import {
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fromEnv, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { S3StoreConfig } from '../config/schema.js';
import { toStoreError } from './errors.js';
import { StoreError, type ObjectInfo, type ObjectStore, type PutRequest } from './types.js';

export interface S3Credentials {
  source: 'env' | 'profile';
  profile?: string | undefined;
}

export function createS3Client(cfg: S3StoreConfig, creds: S3Credentials): S3Client {
  const options: S3ClientConfig = {
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    credentials: creds.source === 'env' ? fromEnv() : fromNodeProviderChain(creds.profile ? { profile: creds.profile } : {}),
    requestChecksumCalculation: cfg.checksum === 'when-supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: cfg.checksum === 'when-supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    // The queue retries with its own backoff and knows when the store is down; keep the SDK's short.
    maxAttempts: 2,
  };
  if (cfg.endpoint) options.endpoint = cfg.endpoint;
  return new S3Client(options);
}

export class S3Store implements ObjectStore {
  readonly location: string;

  constructor(private readonly client: S3Client, private readonly cfg: S3StoreConfig) {
    this.location = `s3://${cfg.bucket}${cfg.prefix ? `/${cfg.prefix}` : ''}`;
  }

  async put(req: PutRequest): Promise<void> {
    const where = `upload of ${req.filePath} to s3://${this.cfg.bucket}/${req.key}`;
    try {
      // lib-storage reads the file in parts and sends each from memory: one PutObject for a file
      // smaller than a part, a multipart upload otherwise. A buffered body lets the SDK put its
      // checksum in a header; a streamed one would need aws-chunked trailers, which some
      // S3-compatible stores (Ceph RGW among them) refuse with 411 MissingContentLength.
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.cfg.bucket, Key: req.key, Body: createReadStream(req.filePath, { highWaterMark: 1024 * 1024 }),
          ContentType: req.contentType, Metadata: req.metadata,
        },
        partSize: this.cfg.partSizeBytes,
        queueSize: this.cfg.partsInFlight,
        leavePartsOnError: false,
        ...(req.signal ? { abortController: signalController(req.signal) } : {}),
      });
      if (req.onProgress) upload.on('httpUploadProgress', (p) => req.onProgress?.(p.loaded ?? 0));
      await upload.done();
    } catch (e) {
      throw toStoreError(e, where);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0), metadata: r.Metadata ?? {} };
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404) return null;
      throw toStoreError(e, `HEAD s3://${this.cfg.bucket}/${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (e) {
        throw toStoreError(e, `listing s3://${this.cfg.bucket}/${prefix}`);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async download(key: string, outPath: string): Promise<void> {
    const tmp = `${outPath}.${randomBytes(6).toString('hex')}.part`;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      await pipeline(r.Body as Readable, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, outPath);
    } catch (e) {
      await rm(tmp, { force: true });
      const err = e as { name?: string; path?: unknown; message?: string };
      if (err.name === 'NoSuchKey') throw new StoreError('not-found', `s3://${this.cfg.bucket}/${key} does not exist`, false);
      // File-system errors carry the path; network errors do not.
      if (typeof err.path === 'string') throw new StoreError('bad-input', `cannot write ${outPath}: ${err.message}`, false);
      throw toStoreError(e, `download of s3://${this.cfg.bucket}/${key}`);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function signalController(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort();
  else signal.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}
