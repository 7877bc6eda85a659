// Exactly-once writes to S3. Small objects: one PutObject with If-None-Match: *. Large ones: a
// multipart upload journaled part by part (UploadId, part size, each part's ETag) so that a
// restart reconciles with ListParts and sends only the missing parts. A 412 (or an object found
// before completing) is ours when its metadata names this job, otherwise a conflict.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand,
  ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { S3StoreConfig } from '../config/schema.js';
import { toStoreError } from './errors.js';
import { METADATA, StoreError, type ObjectInfo, type PartRecord, type PutRequest, type PutResult } from './types.js';

/** Request fields every write carries: type, metadata, server-side encryption, class, tags. */
export function writeParams(cfg: S3StoreConfig, req: PutRequest) {
  return {
    Bucket: cfg.bucket, Key: req.key, ContentType: req.contentType, Metadata: req.metadata,
    ...(cfg.sse ? { ServerSideEncryption: cfg.sse.type } : {}),
    ...(cfg.sse?.type === 'aws:kms' && cfg.sse.kmsKeyId ? { SSEKMSKeyId: cfg.sse.kmsKeyId } : {}),
    ...(cfg.storageClass ? { StorageClass: cfg.storageClass as StorageClass } : {}),
    ...(cfg.tags ? { Tagging: new URLSearchParams(cfg.tags).toString() } : {}),
  };
}

async function readPart(file: string, start: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let off = 0;
    while (off < length) {
      const { bytesRead } = await fh.read(buf, off, length - off, start + off);
      if (bytesRead === 0) throw new StoreError('internal', `${file} ended before part at ${start} was read`, true);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

function written(etag: string | undefined): PutResult {
  return etag ? { outcome: 'written', etag } : { outcome: 'written' };
}

function ours(found: ObjectInfo): PutResult {
  return { outcome: 'already-ours', found };
}

function isStatus(e: unknown, status: number, ...names: string[]): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.$metadata?.httpStatusCode === status || names.includes(err.name ?? '');
}

export class S3Writer {
  /** Whether the store honours If-None-Match on PutObject; learnt from its first refusal. */
  private conditionalPuts = true;

  constructor(private readonly client: S3Client, private readonly cfg: S3StoreConfig, private readonly where: (req: PutRequest) => string) {}

  /**
   * Is the object at `key` this job's own earlier write? Returns it as HEAD described it when it is,
   * null when there is none, and throws a conflict when it is another's.
   */
  async ownerCheck(req: PutRequest): Promise<ObjectInfo | null> {
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: req.key }));
    } catch (e) {
      if (isStatus(e, 404, 'NotFound', 'NoSuchKey')) return null;
      throw toStoreError(e, `checking s3://${this.cfg.bucket}/${req.key}`);
    }
    const theirs = head.Metadata?.[METADATA.job];
    if (theirs && theirs === req.metadata[METADATA.job]) {
      return { key: req.key, size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0), metadata: head.Metadata ?? {}, ...(head.ETag ? { etag: head.ETag } : {}) };
    }
    throw new StoreError('conflict', `${req.source} was not stored: s3://${this.cfg.bucket}/${req.key} already holds another record` +
      `${theirs ? ` (written by ${theirs})` : ''}; rename one of them or remove the stored object`, false);
  }

  async putBuffer(req: PutRequest, body: Buffer): Promise<PutResult> {
    const earlier = this.conditionalPuts ? null : await this.ownerCheck(req);
    if (earlier) return ours(earlier);
    try {
      const command = new PutObjectCommand({
        ...writeParams(this.cfg, req), Body: body, ContentLength: body.length,
        ...(this.conditionalPuts ? { IfNoneMatch: '*' } : {}),
      });
      const sha256 = 'buffer' in req.data ? req.data.sha256 : undefined;
      if (sha256) {
        // The signature covers the body through this header; given, the signer need not hash the
        // body again on the main thread. The store checks the body against it.
        command.middlewareStack.add((next) => (args) => {
          (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256;
          return next(args);
        }, { step: 'build', name: 'medrelayKnownPayloadHash' });
      }
      const r = await this.client.send(command, req.signal ? { abortSignal: req.signal } : {});
      req.onProgress?.(body.length);
      return written(r.ETag);
    } catch (e) {
      if (isStatus(e, 412, 'PreconditionFailed')) {
        const found = await this.ownerCheck(req);
        if (found) return ours(found);
        throw new StoreError('network', `${this.where(req)}: the store refused the write as if the key existed, and it does not; trying again`, true);
      }
      if (this.conditionalPuts && isStatus(e, 501, 'NotImplemented')) {
        // This store has no conditional writes: check with HEAD from now on.
        this.conditionalPuts = false;
        return this.putBuffer(req, body);
      }
      throw toStoreError(e, this.where(req));
    }
  }

  async putFile(req: PutRequest, file: string, size: number): Promise<PutResult> {
    const journal = req.journal;
    if (!journal) throw new StoreError('internal', `${this.where(req)}: a large upload needs a journal`, false);
    const s3 = { Bucket: this.cfg.bucket, Key: req.key };
    try {
      // Completed before a crash, before the queue could note it?
      const earlier = await this.ownerCheck(req);
      if (earlier) {
        journal.end();
        return ours(earlier);
      }
      const partSize = journal.partSize ?? this.cfg.partSizeBytes;
      const count = Math.max(1, Math.ceil(size / partSize));
      const sizeOf = (n: number) => Math.min(partSize, size - (n - 1) * partSize);
      let uploadId = journal.uploadId;
      const have = new Map<number, PartRecord>();
      if (uploadId) {
        const listed = await this.listParts(req.key, uploadId);
        if (listed) {
          for (const p of listed) if (p.partNumber <= count && p.size === sizeOf(p.partNumber)) have.set(p.partNumber, p);
          journal.resumed(have.size);
        } else {
          uploadId = null; // aborted or expired: start again
        }
      }
      if (!uploadId) {
        const created = await this.client.send(new CreateMultipartUploadCommand(writeParams(this.cfg, req)));
        uploadId = created.UploadId!;
        journal.begin(uploadId, partSize);
      }
      for (const p of have.values()) journal.partDone(p);
      let sent = [...have.values()].reduce((n, p) => n + p.size, 0);
      req.onProgress?.(sent);
      const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !have.has(n));
      const id = uploadId;
      const worker = async () => {
        for (let n = missing.shift(); n !== undefined; n = missing.shift()) {
          // With flexible checksums the body is buffered, so the SDK puts its checksum in a header (a
          // stream would need aws-chunked trailers, which Ceph RGW refuses with 411); memory is then
          // partSize × partsInFlight per upload. Without, the part streams from the spool file.
          const start = (n - 1) * partSize;
          const body = this.cfg.checksum === 'when-supported'
            ? await readPart(file, start, sizeOf(n))
            : createReadStream(file, { start, end: start + sizeOf(n) - 1, highWaterMark: 1024 * 1024 });
          const r = await this.client.send(new UploadPartCommand({
            ...s3, UploadId: id, PartNumber: n, ContentLength: sizeOf(n), Body: body,
          }), req.signal ? { abortSignal: req.signal } : {});
          const part = { partNumber: n, etag: r.ETag!, size: sizeOf(n) };
          have.set(n, part);
          journal.partDone(part);
          sent += part.size;
          req.onProgress?.(sent);
        }
      };
      await Promise.all(Array.from({ length: this.cfg.partsInFlight }, worker));
      // CompleteMultipartUpload's If-None-Match is ignored by some stores (Ceph RGW): check first.
      const meanwhile = await this.ownerCheck(req);
      if (meanwhile) {
        await this.abort(id, req);
        journal.end();
        return ours(meanwhile);
      }
      let completed;
      try {
        completed = await this.client.send(new CompleteMultipartUploadCommand({
          ...s3, UploadId: id, IfNoneMatch: '*',
          MultipartUpload: { Parts: [...have.values()].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }));
      } catch (e) {
        if (!isStatus(e, 412, 'PreconditionFailed')) throw e;
        const found = await this.ownerCheck(req);
        await this.abort(id, req);
        journal.end();
        return found ? ours(found) : { outcome: 'already-ours' };
      }
      journal.end();
      return written(completed.ETag);
    } catch (e) {
      if (e instanceof StoreError && e.code === 'conflict' && journal.uploadId) {
        await this.abort(journal.uploadId, req).catch(() => {});
        journal.end();
      }
      throw toStoreError(e, this.where(req));
    }
  }

  /** Every part the store holds for an upload, or null when the upload no longer exists. */
  private async listParts(key: string, uploadId: string): Promise<PartRecord[] | null> {
    const parts: PartRecord[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(new ListPartsCommand({ Bucket: this.cfg.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
        for (const p of page.Parts ?? []) {
          if (p.PartNumber && p.ETag) parts.push({ partNumber: p.PartNumber, etag: p.ETag, size: p.Size ?? 0 });
        }
        if (!page.IsTruncated) return parts;
        marker = page.NextPartNumberMarker;
      }
    } catch (e) {
      if (isStatus(e, 404, 'NoSuchUpload')) return null;
      throw e;
    }
  }

  private async abort(uploadId: string, req: PutRequest): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.cfg.bucket, Key: req.key, UploadId: uploadId }));
  }
}
