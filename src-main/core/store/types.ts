// What the queue and the browser need from a place that keeps records: S3 or a folder.
import type { Readable } from 'node:stream';

/** What to store: bytes in memory (small records) or a file (a spooled ciphertext, a large file). */
export type PutData =
  /** `sha256`: the buffer's SHA-256 in hex when already known (computed off the main thread), for the request signature. */
  | { buffer: Buffer; sha256?: string }
  | { file: string; size: number };

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
}

/** The queue's persisted record of a multipart upload, so that a restart sends only missing parts. */
export interface UploadJournal {
  readonly uploadId: string | null;
  readonly partSize: number | null;
  readonly parts: readonly PartRecord[];
  begin(uploadId: string, partSize: number): void;
  partDone(part: PartRecord): void;
  /** Parts found in the store from an earlier run and not sent again. */
  resumed(count: number): void;
  end(): void;
}

export interface PutRequest {
  key: string;
  data: PutData;
  /** The source file, for messages. */
  source: string;
  contentType: string;
  /** Cleartext object metadata: no PHI (DESIGN.md rule 7). Must name the job (METADATA.job). */
  metadata: Record<string, string>;
  journal?: UploadJournal;
  onProgress?: (sentBytes: number) => void;
  signal?: AbortSignal;
}

/** `already-ours`: the object was there, written by this same job before (a retry or a crash). */
export type PutOutcome = 'written' | 'already-ours';

/** What the store answered a write: what verification compares the stored object with. */
export interface PutResult {
  outcome: PutOutcome;
  /** The ETag the store returned for this write (PutObject, CompleteMultipartUpload), when it gave one. */
  etag?: string;
  /**
   * For `already-ours`: the object as the store described it when it was found to be ours (size,
   * ETag, metadata), so that it need not be read again.
   */
  found?: ObjectInfo;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  metadata?: Record<string, string>;
  /** The store's entity tag (S3 ETag, quotes as the store sent them); folders have none. */
  etag?: string;
}

export interface ObjectStore {
  /** Where records go, for messages: `s3://bucket/prefix` or a folder path. */
  readonly location: string;
  /**
   * Writes one object, never over another one: an existing object written by the same job is
   * `already-ours`, anything else is a `conflict`. Never leaves a partial object visible.
   */
  put(req: PutRequest): Promise<PutResult>;
  /** Is the store reachable? Any answer (even 403 or 404) means yes. */
  probe(): Promise<boolean>;
  /** Gives up a multipart upload (S3 only). */
  abortUpload?(key: string, uploadId: string): Promise<void>;
  /** Aborts multipart uploads no job owns (S3 only); returns how many. */
  abortStaleUploads?(owned: Map<string, string>, pendingKeys: Set<string>, maxAgeMs: number, now: number): Promise<number>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * One page of the objects under `prefix` whose keys sort after `startAfter`, in key order, with
   * size and ETag (S3 only): lets the queue verify many uploads of one folder with one request.
   */
  listPage?(prefix: string, startAfter: string, maxKeys: number): Promise<ListPage>;
  /** Every object under a prefix, across pages. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** An object's stored bytes, as a stream. */
  get(key: string): Promise<{ body: Readable; info: ObjectInfo }>;
  /**
   * The sub-prefixes and keys directly under `prefix` (S3 delimiter semantics), across pages: lets
   * the calendar find years, months and days without listing every object (store/*-listing.ts).
   */
  listPrefixes(prefix: string, delimiter: string): Promise<PrefixListing>;
  /** A presigned GET URL that expires (S3 only; at most 7 days, the SigV4 limit). */
  presignGet?(key: string, expiresInSeconds: number): Promise<string>;
  close(): void;
}

/** A page of a listing; `truncated` when more keys follow the last one. Objects carry no metadata. */
export interface ListPage {
  objects: ObjectInfo[];
  truncated: boolean;
}

/** One level of a listing: `prefixes` end with the delimiter; `objects` carry no metadata. */
export interface PrefixListing {
  prefixes: string[];
  objects: ObjectInfo[];
}

/** An error from a store with the code a person can act on. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: 'auth' | 'network' | 'conflict' | 'not-found' | 'bad-input' | 'internal',
    message: string,
    readonly retryable: boolean,
    /** A server's Retry-After, when it gave one. */
    readonly retryAfterMs?: number,
    /** `unreachable`: no answer at all (connection refused, DNS, timeout); `throttled`: 503/SlowDown. */
    readonly condition?: 'unreachable' | 'throttled',
  ) {
    super(message);
  }
}

/** Cleartext object metadata. No PHI and no plaintext hash: see DESIGN.md rule 7. */
export const METADATA = {
  kind: 'medrelay-kind',
  workstation: 'medrelay-workstation',
  uploadedAt: 'medrelay-uploaded-at',
  /** `esdk2`, `esdk2-named` or `plain` (see core/crypto/envelope.ts). */
  format: 'medrelay-format',
  /** The keys that can open the object, e.g. `aes:site-2026,rsa:rsa-0123…`. */
  keyIds: 'medrelay-key-ids',
  /** `<workstation>/<job id>`: lets a retry recognise its own earlier write. */
  job: 'medrelay-job',
} as const;
