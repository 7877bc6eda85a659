// What the queue and the browser need from a place that keeps records: S3 or a folder.

export interface PutRequest {
  key: string;
  filePath: string;
  size: number;
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
  /** Writes an object's bytes to `outPath` (through a temp file and a rename). */
  download(key: string, outPath: string): Promise<void>;
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

export const METADATA = {
  kind: 'medrelay-kind',
  workstation: 'medrelay-workstation',
  originalName: 'medrelay-original-name',
  uploadedAt: 'medrelay-uploaded-at',
} as const;
