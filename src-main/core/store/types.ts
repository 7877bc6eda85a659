// What the queue and the browser need from a place that keeps records: S3 or a folder.
import type { Readable } from 'node:stream';

export interface PutRequest {
  key: string;
  /** The bytes to store (ciphertext, or the file itself in sse-only mode). Read once. */
  body: Readable;
  /** The source file, for messages. */
  source: string;
  contentType: string;
  /** Cleartext object metadata: no PHI (DESIGN.md rule 7). */
  metadata: Record<string, string>;
  onProgress?: (sentBytes: number) => void;
  signal?: AbortSignal;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  metadata?: Record<string, string>;
}

export interface ObjectStore {
  /** Where records go, for messages: `s3://bucket/prefix` or a folder path. */
  readonly location: string;
  /** Writes a file as one object. Never leaves a partial object visible under `key`. */
  put(req: PutRequest): Promise<void>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object under a prefix, across pages. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** An object's stored bytes, as a stream. */
  get(key: string): Promise<{ body: Readable; info: ObjectInfo }>;
  close(): void;
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
