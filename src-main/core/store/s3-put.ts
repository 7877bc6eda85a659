// Exactly-once writes to S3. Small objects: one PutObject with If-None-Match: *. Large ones: a
// multipart upload journaled part by part (UploadId, part size, each part's ETag) so that a
// restart reconciles with ListParts and sends only the missing parts. A 412 (or an object found
// before completing) is ours when its metadata names this job, otherwise a conflict.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand,
  ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { S3StoreConfig } from '../config/schema.js';
import { toStoreError } from './errors.js';
import { Slots } from '../slots.js';
import { forEachChunk } from '../records/file-bytes.js';
import { crc32Header, DirectS3, taggingHeader } from './s3-direct.js';
import { METADATA, StoreError, type ObjectInfo, type PartRecord, type PutRequest, type PutResult } from './types.js';

/** Request fields every write carries: type, metadata, server-side encryption, class, tags. */
export function writeParams(cfg: S3StoreConfig, req: PutRequest) {
  return {
    Bucket: cfg.bucket, Key: req.key, ContentType: req.contentType, Metadata: req.metadata,
    ...(cfg.sse ? { ServerSideEncryption: cfg.sse.type } : {}),
    ...(cfg.sse?.type === 'aws:kms' && cfg.sse.kmsKeyId ? { SSEKMSKeyId: cfg.sse.kmsKeyId } : {}),
    ...(cfg.storageClass ? { StorageClass: cfg.storageClass as StorageClass } : {}),
    ...(cfg.tags ? { Tagging: taggingHeader(cfg.tags) } : {}),
  };
}

/** The CRC32 of `length` bytes of `file` from `start`, as S3's x-amz-checksum-crc32 wants it. */
async function partCrc32(file: string, start: number, length: number): Promise<string> {
  let crc = 0;
  await forEachChunk(file, start, length, (chunk) => { crc = crc32(chunk, crc); });
  return crc32Header(crc);
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

export interface S3WriterOptions {
  /**
   * Send records held in memory as one PutObject without the SDK's request pipeline (s3-direct.ts;
   * default true). The SDK sends them when false, or when the endpoint needs another signature.
   */
  direct?: boolean;
  /**
   * Parts in flight across all multipart uploads at once (default: `partsInFlight`, each upload on
   * its own). With a budget, an upload alone on the wire (the first and the last of a batch) may
   * send up to the whole budget of parts, and several share it; memory stays bounded by the
   * budget, since parts stream from the spool.
   */
  partBudget?: number;
}

export class S3Writer {
  /** Whether the store honours If-None-Match on PutObject; learnt from its first refusal. */
  private conditionalPuts = true;
  /** The requests sent outside the SDK's pipeline (null with `direct: false`); S3Store lists through it too. */
  readonly direct: DirectS3 | null;
  private readonly parts: Slots | null;
  private readonly partWorkers: number;

  constructor(private readonly client: S3Client, private readonly cfg: S3StoreConfig, private readonly where: (req: PutRequest) => string,
    opts: S3WriterOptions = {}) {
    this.direct = opts.direct === false ? null : new DirectS3(client, cfg);
    this.parts = opts.partBudget ? new Slots(opts.partBudget) : null;
    this.partWorkers = opts.partBudget ?? cfg.partsInFlight;
  }

  /** Closes the connections the direct path keeps open (the SDK client is closed by its owner). */
  close(): void {
    this.direct?.close();
  }

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
      const sha256 = 'buffer' in req.data ? req.data.sha256 : undefined;
      const r = await this.direct?.put({
        key: req.key, body, sha256, contentType: req.contentType, metadata: req.metadata, conditional: this.conditionalPuts, signal: req.signal,
      }) ?? await this.sdkPut(req, body, sha256);
      req.onProgress?.(body.length);
      return written(r.etag);
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

  private async sdkPut(req: PutRequest, body: Buffer, sha256: string | undefined): Promise<{ etag?: string }> {
    const command = new PutObjectCommand({
      ...writeParams(this.cfg, req), Body: body, ContentLength: body.length,
      ...(this.conditionalPuts ? { IfNoneMatch: '*' } : {}),
    });
    if (sha256) {
      // The signature covers the body through this header; given, the signer need not hash the
      // body again on the main thread. The store checks the body against it.
      command.middlewareStack.add((next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256;
        return next(args);
      }, { step: 'build', name: 'medrelayKnownPayloadHash' });
    }
    const r = await this.client.send(command, req.signal ? { abortSignal: req.signal } : {});
    return r.ETag ? { etag: r.ETag } : {};
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
      let failed = false;
      const worker = async () => {
        // Once a part failed the upload is given up for now: no other worker starts a part.
        for (;;) {
          const free = await this.parts?.acquire(req.signal);
          const n = failed ? undefined : missing.shift();
          if (n === undefined) {
            free?.();
            return;
          }
          const r = await this.sendPart({ ...s3, UploadId: id, PartNumber: n }, file, (n - 1) * partSize, sizeOf(n), req.signal)
            .catch((e: unknown) => { failed = true; throw e; })
            .finally(() => free?.());
          const part = { partNumber: n, etag: r.ETag!, size: sizeOf(n) };
          have.set(n, part);
          journal.partDone(part);
          sent += part.size;
          req.onProgress?.(sent);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.partWorkers, missing.length) }, worker));
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

  /**
   * Sends `length` bytes of `file` from `start` as one part, streamed from the spool file (memory:
   * one reused read buffer on the direct path, the stream's read-ahead through the SDK; the part
   * goes unsigned rather than hashed for the signature, as the SDK sends a stream). With flexible
   * checksums the part's CRC32 is read from the spool first and sent in its header: the SDK would
   * otherwise buffer the part (or send aws-chunked trailers, which Ceph RGW refuses with 411).
   */
  private async sendPart(params: { Bucket: string; Key: string; UploadId: string; PartNumber: number }, file: string,
    start: number, length: number, signal: AbortSignal | undefined): Promise<{ ETag?: string | undefined }> {
    const crc = this.cfg.checksum === 'when-supported' ? await partCrc32(file, start, length) : undefined;
    const direct = await this.direct?.putPart({
      key: params.Key, uploadId: params.UploadId, partNumber: params.PartNumber, file, start, length, crc32: crc, signal,
    });
    if (direct) return { ETag: direct.etag };
    const checksum = crc ? { ChecksumAlgorithm: 'CRC32' as const, ChecksumCRC32: crc } : {};
    const body = createReadStream(file, { start, end: start + length - 1, highWaterMark: 256 * 1024 });
    return this.client.send(new UploadPartCommand({ ...params, ...checksum, ContentLength: length, Body: body }), signal ? { abortSignal: signal } : {})
      .finally(() => body.destroy());
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
