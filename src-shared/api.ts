// The one contract between the renderer and main (and the shape of the CLI's JSON output).
// AppApi lists the methods, AppEvents the pushes from main; the preload, the IPC handlers and
// the renderer's client are all derived from API_METHODS and EVENT_NAMES.
import type { ErrorCode, Result } from './result.js';
import type { RecordKind } from './keys.js';

/**
 * Where a job is in its life (core/queue/states.ts has the transitions; each is one SQLite
 * transaction). `committed`: the store accepted the object; `done`: verified in the store.
 */
export type JobState = 'queued' | 'uploading' | 'committed' | 'retry-wait' | 'done' | 'needs-attention' | 'failed';
export const JOB_STATES: readonly JobState[] = ['queued', 'uploading', 'committed', 'retry-wait', 'done', 'needs-attention', 'failed'];

export interface WatchedFolder {
  path: string;
  kind: 'ecg' | 'dicom' | 'auto';
}

/** A problem a person may need to see: a job's last error, or a file that was not taken. */
export interface ProblemReport {
  file: string;
  key: string | null;
  code: ErrorCode | 'incomplete';
  reason: string;
  at: string;
}

export interface InFlightUpload {
  jobId: number;
  file: string;
  key: string;
  size: number;
  sent: number;
}

export interface StatusSnapshot {
  /** Settings a person should know are weak (e.g. no client-side encryption). */
  warnings: string[];
  counts: Record<JobState, number>;
  paused: boolean;
  /** False while the store cannot be reached (uploads wait, a probe retries with backoff). */
  storeReachable: boolean;
  watched: WatchedFolder[];
  inFlight: InFlightUpload[];
  /** Most recent first. */
  recentErrors: ProblemReport[];
  /** Files seen but not taken because they stay incomplete. */
  incompleteFiles: number;
  oldestWaiting: { file: string; since: string } | null;
  nextRetryAt: string | null;
}

export interface StoredRecord {
  key: string;
  kind: RecordKind | 'unknown';
  size: number;
  /** ISO time the object was written to the store. */
  uploadedAt: string;
}

export interface AppApi {
  getStatus(): Promise<Result<StatusSnapshot>>;
  listDay(args: { date: string }): Promise<Result<StoredRecord[]>>;
  pauseUploads(): Promise<Result<StatusSnapshot>>;
  resumeUploads(): Promise<Result<StatusSnapshot>>;
}

export type ApiMethod = keyof AppApi;
export const API_METHODS = ['getStatus', 'listDay', 'pauseUploads', 'resumeUploads'] as const satisfies readonly ApiMethod[];

/** Compile-time check that API_METHODS names every method of AppApi. */
type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: MissingMethods extends never ? true : MissingMethods = true;

export interface JobEvent {
  jobId: number;
  file: string;
  key: string | null;
  state: JobState;
  sent?: number;
  size?: number;
  error?: { code: ErrorCode; message: string };
}

export interface AppEvents {
  job: JobEvent;
  status: StatusSnapshot;
}
export const EVENT_NAMES = ['job', 'status'] as const satisfies readonly (keyof AppEvents)[];

/** What the preload exposes as window.medrelay: AppApi plus `on` for the pushes. */
export type MedrelayBridge = AppApi & {
  /** Calls `listener` with each push of `event`; returns a function that stops it. */
  on<E extends keyof AppEvents>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
};
