// The S3 (or S3-compatible) store. Uploads go through lib-storage, which buffers at most
// partSize × partsInFlight per upload.
import {
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig, type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fromEnv, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { Readable } from 'node:stream';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { S3StoreConfig } from '../config/schema.js';
import { SECRET_NAMES, type SecretStore } from '../secrets/secret-store.js';
import { toStoreError } from './errors.js';
import { StoreError, type ObjectInfo, type ObjectStore, type PutRequest } from './types.js';

export interface S3Credentials {
  source: 'keychain' | 'env' | 'profile';
  profile?: string | undefined;
}

/** What `medrelay login` stores, as JSON, in the keychain entry for a bucket. */
export interface StoredS3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

function keychainCredentials(secrets: SecretStore | null, bucket: string): AwsCredentialIdentityProvider {
  return async () => {
    const name = SECRET_NAMES.s3Credentials(bucket);
    const value = secrets ? await secrets.get(name) : null;
    if (!value) {
      throw Object.assign(new Error(`no S3 credentials for bucket "${bucket}" in the keychain; run "medrelay login --config FILE"`), { name: 'CredentialsProviderError' });
    }
    const c = JSON.parse(value) as StoredS3Credentials;
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  };
}

export function createS3Client(cfg: S3StoreConfig, creds: S3Credentials, secrets: SecretStore | null = null): S3Client {
  const credentials = creds.source === 'keychain' ? keychainCredentials(secrets, cfg.bucket)
    : creds.source === 'env' ? fromEnv() : fromNodeProviderChain(creds.profile ? { profile: creds.profile } : {});
  const options: S3ClientConfig = {
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    credentials,
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
    const where = `upload of ${req.source} to s3://${this.cfg.bucket}/${req.key}`;
    try {
      // lib-storage reads the file in parts and sends each from memory: one PutObject for a file
      // smaller than a part, a multipart upload otherwise. A buffered body lets the SDK put its
      // checksum in a header; a streamed one would need aws-chunked trailers, which some
      // S3-compatible stores (Ceph RGW among them) refuse with 411 MissingContentLength.
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.cfg.bucket, Key: req.key, Body: req.body, ContentType: req.contentType, Metadata: req.metadata,
          ...(this.cfg.sse ? { ServerSideEncryption: this.cfg.sse.type } : {}),
          ...(this.cfg.sse?.type === 'aws:kms' && this.cfg.sse.kmsKeyId ? { SSEKMSKeyId: this.cfg.sse.kmsKeyId } : {}),
          ...(this.cfg.storageClass ? { StorageClass: this.cfg.storageClass as StorageClass } : {}),
        },
        ...(this.cfg.tags ? { tags: Object.entries(this.cfg.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        partSize: this.cfg.partSizeBytes,
        queueSize: this.cfg.partsInFlight,
        leavePartsOnError: false,
        ...(req.signal ? { abortController: signalController(req.signal) } : {}),
      });
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

  async get(key: string): Promise<{ body: Readable; info: ObjectInfo }> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return {
        body: r.Body as Readable,
        info: { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0), metadata: r.Metadata ?? {} },
      };
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey') throw new StoreError('not-found', `s3://${this.cfg.bucket}/${key} does not exist`, false);
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
