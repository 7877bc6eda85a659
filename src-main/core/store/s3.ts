// The S3 (or S3-compatible) store: exactly-once writes (s3-put.ts), listing, reading, probing,
// and aborting multipart uploads nobody owns any more.
import {
  AbortMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command,
  S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { fromEnv, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { Readable } from 'node:stream';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { S3StoreConfig } from '../config/schema.js';
import { SECRET_NAMES, type SecretStore } from '../secrets/secret-store.js';
import { toStoreError } from './errors.js';
import { listS3Prefixes, presignS3Get } from './s3-listing.js';
import { S3Writer, type S3WriterOptions } from './s3-put.js';
import { StoreError, type ListPage, type ObjectInfo, type ObjectStore, type PrefixListing, type PutRequest, type PutResult } from './types.js';

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
    // A dead connection or a store that stopped answering would otherwise hold its upload forever.
    requestHandler: { connectionTimeout: cfg.idleTimeoutSeconds * 1000, socketTimeout: cfg.idleTimeoutSeconds * 1000 },
  };
  if (cfg.endpoint) options.endpoint = cfg.endpoint;
  return new S3Client(options);
}

export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly writer: S3Writer;

  constructor(private readonly client: S3Client, private readonly cfg: S3StoreConfig, opts: S3WriterOptions = {}) {
    this.location = `s3://${cfg.bucket}${cfg.prefix ? `/${cfg.prefix}` : ''}`;
    this.writer = new S3Writer(client, cfg, (req) => `upload of ${req.source} to s3://${cfg.bucket}/${req.key}`, opts);
  }

  async put(req: PutRequest): Promise<PutResult> {
    return 'buffer' in req.data ? this.writer.putBuffer(req, req.data.buffer) : this.writer.putFile(req, req.data.file, req.data.size);
  }

  listPrefixes(prefix: string, delimiter: string): Promise<PrefixListing> {
    return listS3Prefixes(this.client, this.cfg.bucket, prefix, delimiter);
  }

  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return presignS3Get(this.client, this.cfg.bucket, key, expiresInSeconds);
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.cfg.bucket, Key: key, UploadId: uploadId }));
  }

  async probe(): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: `${this.cfg.prefix ? `${this.cfg.prefix}/` : ''}.medrelay-probe` }));
      return true;
    } catch (e) {
      return toStoreError(e, 'probe').condition !== 'unreachable';
    }
  }

  /**
   * Aborts multipart uploads the queue no longer owns: on a key of an unfinished job (left by a
   * crash between creating the upload and journaling it), or older than `maxAgeMs` anywhere under
   * the prefix (other workstations' uploads are left alone until then). Returns how many.
   */
  async abortStaleUploads(owned: Map<string, string>, pendingKeys: Set<string>, maxAgeMs: number, now = Date.now()): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(new ListMultipartUploadsCommand({
        Bucket: this.cfg.bucket, Prefix: this.cfg.prefix ? `${this.cfg.prefix}/` : undefined, KeyMarker: keyMarker, UploadIdMarker: idMarker,
      })).catch((e: unknown) => { throw toStoreError(e, `listing multipart uploads in s3://${this.cfg.bucket}`); });
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || owned.has(u.UploadId)) continue;
        const old = u.Initiated ? now - u.Initiated.getTime() > maxAgeMs : false;
        if (!pendingKeys.has(u.Key) && !old) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.cfg.bucket, Key: u.Key, UploadId: u.UploadId })).catch(() => {});
        aborted++;
      }
      if (!page.IsTruncated) return aborted;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0), metadata: r.Metadata ?? {}, ...(r.ETag ? { etag: r.ETag } : {}) };
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404) return null;
      throw toStoreError(e, `HEAD s3://${this.cfg.bucket}/${key}`);
    }
  }

  async listPage(prefix: string, startAfter: string, maxKeys: number): Promise<ListPage> {
    let page;
    try {
      // Outside the SDK's pipeline (s3-direct.ts), unless this endpoint needs another signature.
      const direct = await this.writer.direct?.listPage(prefix, startAfter, maxKeys);
      if (direct) return direct;
      page = await this.client.send(new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: maxKeys }));
    } catch (e) {
      throw toStoreError(e, `listing s3://${this.cfg.bucket}/${prefix} after ${startAfter}`);
    }
    const objects = (page.Contents ?? []).flatMap((o) => o.Key
      ? [{ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0), ...(o.ETag ? { etag: o.ETag } : {}) }] : []);
    return { objects, truncated: page.IsTruncated === true };
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
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0), ...(o.ETag ? { etag: o.ETag } : {}) };
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
    this.writer.close();
    this.client.destroy();
  }
}
