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
  /** The IT policy file in force (null: none) and the settings it locks, e.g. `store.bucket`. */
  policy: { path: string | null; locked: string[] };
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

/** One stored file of a record, as the catalog knows it. */
export interface CatalogFile {
  key: string;
  /** The source file's name (from the day index; the key's last segment when there is no entry). */
  fileName: string;
  kind: RecordKind | 'unknown';
  /** Bytes in the store (ciphertext for client-side encrypted objects). */
  storedSize: number;
  /** Plaintext bytes and SHA-256, from the day index. */
  size: number | null;
  sha256: string | null;
  contentType: string | null;
  uploadedAt: string;
  workstation: string | null;
  seriesUid: string | null;
}

export interface DicomSeries {
  uid: string;
  modality: string | null;
  description: string | null;
  instances: number;
}

/**
 * A record as the clinic thinks of it: an ECG package folder, a report PDF with its JSON sidecar,
 * a signup file, a DICOM study with its series. Patient fields come from the encrypted day index.
 */
export interface CatalogRecord {
  id: string;
  kind: RecordKind | 'unknown';
  date: string;
  title: string;
  patientId: string | null;
  patientName: string | null;
  studyDescription: string | null;
  modalities: string[];
  /** Local time of acquisition, YYYY-MM-DDTHH:MM:SS, when the index or a file name tells. */
  acquiredAt: string | null;
  uploadedAt: string;
  workstations: string[];
  /** True when every file has a day-index entry (else it shows what its key tells). */
  indexed: boolean;
  files: CatalogFile[];
  series: DicomSeries[];
}

export interface DayPage {
  date: string;
  /** Records `offset` … `offset + limit - 1`, in time order. */
  records: CatalogRecord[];
  offset: number;
  /** Records and files of the whole day. */
  total: number;
  files: number;
  /** When the store was last read for this day (ISO), null if never. */
  refreshedAt: string | null;
  /** `store`: refreshed now; `catalog`: from the local catalog (possibly while offline). */
  source: 'store' | 'catalog';
  /** Why the store could not be read, when the page comes from the catalog instead. */
  offline: string | null;
  /** Index objects this machine could not read (no key for them, damaged). */
  unreadableIndex: number;
}

export interface CalendarPage {
  /** `null`: years; `YYYY`: its months; `YYYY-MM`: its days. */
  under: string | null;
  /** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, ascending. */
  values: string[];
  /** Why the store could not be read, when the values come from the catalog instead. */
  offline: string | null;
}

export interface RecordSearch {
  from: string;
  to: string;
  /** A patient ID (exact) or words of a patient name (each must appear). */
  patient?: string;
  kind?: RecordKind;
  modality?: string;
  limit?: number;
}

export interface SearchResult {
  records: CatalogRecord[];
  /** True when more records matched than `limit`. */
  truncated: boolean;
  /** Days in the range that hold records but could not be read now and are not in the catalog. */
  daysMissing: string[];
}

/** A record's original bytes for the renderer's preview; never written to disk. */
export interface RecordBytes {
  key: string;
  fileName: string;
  contentType: string;
  size: number;
  base64: string;
}

/**
 * A link that expires. `direct`: the object itself (sse-only stores: it is stored as the file).
 * `password-copy`: a copy re-encrypted under a one-time password, which is sent separately;
 * the recipient opens it with `medrelay open-share` (docs/browsing.md).
 */
export interface ShareLink {
  url: string;
  expiresAt: string;
  mode: 'direct' | 'password-copy';
  password: string | null;
  /** The object the link points to. */
  sharedKey: string;
}

export interface AppApi {
  getStatus(): Promise<Result<StatusSnapshot>>;
  listDay(args: { date: string }): Promise<Result<StoredRecord[]>>;
  pauseUploads(): Promise<Result<StatusSnapshot>>;
  resumeUploads(): Promise<Result<StatusSnapshot>>;
  /** Years, months of a year (`under: 'YYYY'`) or days of a month (`under: 'YYYY-MM'`) that hold records. */
  listCalendar(args: { under?: string }): Promise<Result<CalendarPage>>;
  /** A day's records grouped, from the catalog if it has the day, else from the store; `refresh` reads the store. */
  openDay(args: { date: string; refresh?: boolean; offset?: number; limit?: number }): Promise<Result<DayPage>>;
  searchRecords(args: RecordSearch): Promise<Result<SearchResult>>;
  previewRecord(args: { key: string; maxBytes?: number }): Promise<Result<RecordBytes>>;
  /** Decrypts a record to a new file at `path` (never over an existing one). */
  saveRecord(args: { key: string; path: string }): Promise<Result<{ path: string; originalName: string | null }>>;
  shareRecord(args: { key: string; expiresInSeconds: number }): Promise<Result<ShareLink>>;
}

export type ApiMethod = keyof AppApi;
export const API_METHODS = ['getStatus', 'listDay', 'pauseUploads', 'resumeUploads',
  'listCalendar', 'openDay', 'searchRecords', 'previewRecord', 'saveRecord', 'shareRecord'] as const satisfies readonly ApiMethod[];

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
