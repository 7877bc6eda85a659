// The persisted job table: every state change is made in a SQLite transaction (some, such as the
// verifier's, several in one), so a crash leaves each job in a named state that the next start
// continues from.
import type { Db } from '../db/open.js';
import { statement } from '../db/statements.js';
import type { JobState, ProblemReport } from '../../../src-shared/api.js';
import type { ErrorCode } from '../../../src-shared/result.js';
import type { RecordKind } from '../../../src-shared/keys.js';
import { checkTransition, TRANSITIONS, TransitionError } from './states.js';

export interface Job {
  id: number;
  sourcePath: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  kind: RecordKind;
  recordDate: string;
  objectKey: string;
  contentType: string;
  state: JobState;
  attempts: number;
  nextAttemptAt: number | null;
  lastErrorCode: ErrorCode | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  uploadedAt: number | null;
  /** The multipart upload this job owns, if any. */
  uploadId: string | null;
  partSize: number | null;
  /** Bytes stored in the store for this job (ciphertext), once known. */
  storedSize: number | null;
  /** Parts reused from an earlier run when the upload resumed. */
  resumedParts: number;
  /** The file as intake hashed it (queue/file-identity.ts); null for jobs queued without one. */
  fileIdentity: string | null;
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
}

export type NewJob = Pick<Job, 'sourcePath' | 'size' | 'mtimeMs' | 'sha256' | 'kind' | 'recordDate' | 'objectKey' | 'contentType'>
  & Partial<Pick<Job, 'fileIdentity'>>;

export type EnqueueOutcome =
  | { outcome: 'queued'; job: Job }
  /** The same content under the same key is already known (delivered or on its way). */
  | { outcome: 'duplicate'; job: Job }
  /** A not-yet-delivered job for this key took the file's new content. */
  | { outcome: 'updated'; job: Job }
  /** Another content was already delivered under this key. */
  | { outcome: 'conflict'; job: Job; existing: Job };

const COLUMNS = `id, source_path AS sourcePath, size, mtime_ms AS mtimeMs, sha256, kind, record_date AS recordDate,
  object_key AS objectKey, content_type AS contentType, state, attempts, next_attempt_at AS nextAttemptAt,
  last_error_code AS lastErrorCode, last_error AS lastError, created_at AS createdAt, updated_at AS updatedAt,
  uploaded_at AS uploadedAt, upload_id AS uploadId, part_size AS partSize, stored_size AS storedSize,
  resumed_parts AS resumedParts, file_identity AS fileIdentity`;


/** The states a job may be in to move to each state (itself included: a repeated write is allowed). */
const SOURCES = Object.fromEntries((Object.keys(TRANSITIONS) as JobState[]).map((to) => [
  to, [to, ...(Object.keys(TRANSITIONS) as JobState[]).filter((from) => TRANSITIONS[from].includes(to))],
])) as Record<JobState, JobState[]>;

/** One UPDATE per target state, allowed only from the states listed in states.ts. */
function setStateSql(to: JobState): string {
  return `UPDATE jobs SET state = ?, last_error_code = ?, last_error = ?, next_attempt_at = ?,
    uploaded_at = COALESCE(?, uploaded_at), stored_size = COALESCE(?, stored_size), updated_at = ?
    WHERE id = ? AND state IN (${SOURCES[to].map((s) => `'${s}'`).join(', ')})`;
}

/**
 * `LIMIT n` written into the statement, for the claim. SQLite (3.54 here) plans with the value bound to
 * a LIMIT parameter, so it prepares such a statement again every time one is bound: that doubled
 * the cost of the claim's read (33 against 16 µs here, quiet; and about 250 µs of CPU in a busy
 * agent). The claim's limits are a few small numbers, so their statements stay few in the cache.
 */
function limitClause(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a limit must be a whole number, not ${n}`);
  return `LIMIT ${n}`;
}

export class JobRepository {
  // Transactions are built once: better-sqlite3 wraps the function on every db.transaction() call.
  private readonly enqueueTx: (job: NewJob) => EnqueueOutcome;
  private readonly claimTx: (rows: Job[], t: number) => Job[];

  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {
    this.enqueueTx = db.transaction((job: NewJob) => this.enqueueNow(job));
    this.claimTx = db.transaction((rows: Job[], t: number) => this.claimNow(rows, t));
  }

  private sql(text: string) {
    return statement(this.db, text);
  }

  /** Runs `f` in one transaction with the job table (for writes that belong with a state change). */
  transaction(f: () => void): void {
    this.db.transaction(f)();
  }

  get(id: number): Job | undefined {
    return this.sql(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`).get(id) as Job | undefined;
  }

  /** Is there a job for exactly this version of a file (path, size, mtime)? Then it need not be hashed again. */
  hasVersion(sourcePath: string, size: number, mtimeMs: number): boolean {
    return this.sql('SELECT 1 FROM jobs WHERE source_path = ? AND size = ? AND mtime_ms = ? LIMIT 1').get(sourcePath, size, mtimeMs) !== undefined;
  }

  /** Adds a file's content to the queue unless that content is already known under its key. */
  enqueue(job: NewJob): EnqueueOutcome {
    return this.enqueueTx(job);
  }

  private enqueueNow(job: NewJob): EnqueueOutcome {
    const t = this.now();
    // Every job under this key, newest first, in one read: usually none. Sorted here: an ORDER BY
    // (this index is by key and content) costs SQLite a sorter even for no rows, 23 against 6 µs.
    const others = (this.sql(`SELECT ${COLUMNS} FROM jobs WHERE object_key = ?`).all(job.objectKey) as Job[]).sort((a, b) => b.id - a.id);
    const sameContent = others.find((o) => o.sha256 === job.sha256);
    if (sameContent) {
      if (sameContent.state === 'failed' || sameContent.state === 'needs-attention') {
        // Seen again after a person's fix (or a new copy of the file): try once more.
        checkTransition(sameContent.id, sameContent.state, 'queued');
        this.sql(`UPDATE jobs SET state = 'queued', source_path = ?, size = ?, mtime_ms = ?, attempts = 0,
          next_attempt_at = NULL, updated_at = ? WHERE id = ?`).run(job.sourcePath, job.size, job.mtimeMs, t, sameContent.id);
        return { outcome: 'queued', job: this.get(sameContent.id)! };
      }
      if (sameContent.sourcePath !== job.sourcePath || sameContent.mtimeMs !== job.mtimeMs) {
        this.sql('UPDATE jobs SET source_path = ?, size = ?, mtime_ms = ?, updated_at = ? WHERE id = ?')
          .run(job.sourcePath, job.size, job.mtimeMs, t, sameContent.id);
      }
      return { outcome: 'duplicate', job: sameContent };
    }
    const pendingSameFile = others.find((o) => (o.state === 'queued' || o.state === 'retry-wait') && o.sourcePath === job.sourcePath);
    if (pendingSameFile) {
      // New content: an upload begun for the old content is abandoned (its parts are stale).
      this.sql(`UPDATE jobs SET size = ?, mtime_ms = ?, sha256 = ?, kind = ?, record_date = ?, content_type = ?,
        upload_id = NULL, part_size = NULL, stored_size = NULL, file_identity = ?, updated_at = ? WHERE id = ?`)
        .run(job.size, job.mtimeMs, job.sha256, job.kind, job.recordDate, job.contentType, job.fileIdentity ?? null, t, pendingSameFile.id);
      this.sql('DELETE FROM parts WHERE job_id = ?').run(pendingSameFile.id);
      return { outcome: 'updated', job: this.get(pendingSameFile.id)! };
    }
    const existing = others.find((o) => o.state === 'done' || o.state === 'uploading' || o.state === 'committed');
    const info = this.sql(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key,
      content_type, state, created_at, updated_at, file_identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`)
      .run(job.sourcePath, job.size, job.mtimeMs, job.sha256, job.kind, job.recordDate, job.objectKey, job.contentType, t, t,
        job.fileIdentity ?? null);
    const id = Number(info.lastInsertRowid);
    if (existing) {
      const message = `${job.sourcePath} would replace ${job.objectKey}, already delivered from ${existing.sourcePath} with other content; rename one of the files or remove the stored object`;
      this.setState(id, 'needs-attention', { code: 'conflict', message });
      return { outcome: 'conflict', job: this.get(id)!, existing };
    }
    // The row as the INSERT wrote it, without reading it back.
    return { outcome: 'queued', job: {
      id, sourcePath: job.sourcePath, size: job.size, mtimeMs: job.mtimeMs, sha256: job.sha256, kind: job.kind, recordDate: job.recordDate,
      objectKey: job.objectKey, contentType: job.contentType, state: 'queued', attempts: 0, nextAttemptAt: null, lastErrorCode: null,
      lastError: null, createdAt: t, updatedAt: t, uploadedAt: null, uploadId: null, partSize: null, storedSize: null, resumedParts: 0,
      fileIdentity: job.fileIdentity ?? null,
    } };
  }

  /** Moves up to `limit` due jobs to `uploading` and returns them, oldest first. */
  claimDue(limit: number): Job[] {
    if (limit <= 0) return [];
    const t = this.now();
    // Two indexed lookups: an OR across states would scan the whole table on every claim. Read
    // outside a transaction: the queue is pumped after every file, and mostly finds nothing new.
    const queued = this.sql(`SELECT ${COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY id ${limitClause(limit)}`).all() as Job[];
    const due = queued.length < limit ? this.sql(`SELECT ${COLUMNS} FROM jobs WHERE state = 'retry-wait' AND next_attempt_at <= ?
      ORDER BY next_attempt_at ${limitClause(limit - queued.length)}`).all(t) as Job[] : [];
    const rows = [...queued, ...due];
    return rows.length ? this.claimTx(rows, t) : [];
  }

  /** Claims the rows read by claimDue that are still waiting (another process may have moved one). */
  private claimNow(rows: Job[], t: number): Job[] {
    const claim = this.sql(`UPDATE jobs SET state = 'uploading', attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND state IN ('queued', 'retry-wait')`);
    return rows.filter((r) => claim.run(t, r.id).changes === 1).map((r) => ({ ...r, state: 'uploading' as const, attempts: r.attempts + 1 }));
  }

  /**
   * Moves a job to its next state (checked against states.ts): one UPDATE that only applies from
   * an allowed state; the current state is read only to explain a refusal.
   */
  setState(id: number, state: JobState, opts: { code?: ErrorCode; message?: string; nextAttemptAt?: number; uploadedAt?: number; storedSize?: number } = {}): void {
    const r = this.sql(setStateSql(state)).run(state, opts.code ?? null, opts.message ?? null, opts.nextAttemptAt ?? null,
      opts.uploadedAt ?? null, opts.storedSize ?? null, this.now(), id);
    if (r.changes === 1) return;
    const current = this.sql('SELECT state FROM jobs WHERE id = ?').get(id) as { state: JobState } | undefined;
    if (!current) throw new TransitionError(`job ${id} does not exist`);
    checkTransition(id, current.state, state);
    throw new TransitionError(`job ${id} could not go from ${current.state} to ${state}`);
  }

  /** After a crash: jobs that were uploading or committed go back to the queue; their upload is kept. */
  requeueInterrupted(): number {
    return this.sql(`UPDATE jobs SET state = 'queued', updated_at = ? WHERE state IN ('uploading', 'committed')`).run(this.now()).changes;
  }

  /** Records the multipart upload a job now owns (and forgets parts of any earlier one). */
  beginUpload(id: number, uploadId: string, partSize: number, storedSize: number): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM parts WHERE job_id = ?').run(id);
      this.sql('UPDATE jobs SET upload_id = ?, part_size = ?, stored_size = ?, updated_at = ? WHERE id = ?')
        .run(uploadId, partSize, storedSize, this.now(), id);
    })();
  }

  setStoredSize(id: number, storedSize: number): void {
    this.sql('UPDATE jobs SET stored_size = ? WHERE id = ?').run(storedSize, id);
  }

  /** Forgets a job's multipart upload (finished, aborted, or gone from the store). */
  endUpload(id: number): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM parts WHERE job_id = ?').run(id);
      this.sql('UPDATE jobs SET upload_id = NULL, part_size = NULL WHERE id = ?').run(id);
    })();
  }

  partDone(id: number, part: PartRecord): void {
    this.sql('INSERT OR REPLACE INTO parts (job_id, part_number, etag, size) VALUES (?, ?, ?, ?)').run(id, part.partNumber, part.etag, part.size);
  }

  parts(id: number): PartRecord[] {
    return this.sql('SELECT part_number AS partNumber, etag, size FROM parts WHERE job_id = ? ORDER BY part_number').all(id) as PartRecord[];
  }

  addResumedParts(id: number, n: number): void {
    this.sql('UPDATE jobs SET resumed_parts = resumed_parts + ? WHERE id = ?').run(n, id);
  }

  /** Upload ids owned by unfinished jobs, by key: a multipart upload not listed here is stale. */
  ownedUploads(): Map<string, string> {
    const rows = this.sql(`SELECT object_key AS key, upload_id AS uploadId FROM jobs WHERE upload_id IS NOT NULL AND state != 'done'`).all() as { key: string; uploadId: string }[];
    return new Map(rows.map((r) => [r.uploadId, r.key]));
  }

  /** Keys of unfinished jobs: a multipart upload on such a key that the job does not own was left by a crash. */
  pendingKeys(): Set<string> {
    return new Set((this.sql(`SELECT object_key AS key FROM jobs WHERE state != 'done'`).all() as { key: string }[]).map((r) => r.key));
  }

  /** Verified jobs uploaded before `uploadedBefore` whose source file the retention policy has not handled. */
  dueForRetention(uploadedBefore: number): Job[] {
    return this.sql(`SELECT ${COLUMNS} FROM jobs WHERE state = 'done' AND retained_at IS NULL AND uploaded_at <= ?
      ORDER BY id LIMIT 10000`).all(uploadedBefore) as Job[];
  }

  markRetained(id: number, at: number): void {
    this.sql('UPDATE jobs SET retained_at = ? WHERE id = ?').run(at, id);
  }

  /** The store is back: jobs waiting because of it are due now. */
  dueNow(code: ErrorCode): number {
    return this.sql(`UPDATE jobs SET next_attempt_at = ? WHERE state = 'retry-wait' AND last_error_code = ?`).run(this.now(), code).changes;
  }

  /** A person acted (restart, `medrelay retry`): parked jobs are tried again. */
  requeueParked(codes: readonly ErrorCode[] = ['auth', 'network', 'internal']): number {
    return this.sql(`UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = NULL, updated_at = ?
      WHERE state = 'needs-attention' AND last_error_code IN (SELECT value FROM json_each(?))`).run(this.now(), JSON.stringify(codes)).changes;
  }

  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, uploading: 0, committed: 0, 'retry-wait': 0, done: 0, 'needs-attention': 0, failed: 0 };
    for (const r of this.sql('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: JobState; n: number }[]) {
      out[r.state] = r.n;
    }
    return out;
  }

  /** Jobs not finished yet: queued, on the wire, committed, or waiting to retry with fewer than `maxAttempts` attempts made. */
  pendingCount(maxAttempts: number): number {
    return (this.sql(`SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued','uploading','committed')
      OR (state = 'retry-wait' AND attempts < ?)`).get(maxAttempts) as { n: number }).n;
  }

  nextRetryAt(): number | null {
    return (this.sql(`SELECT MIN(next_attempt_at) AS t FROM jobs WHERE state = 'retry-wait'`).get() as { t: number | null }).t;
  }

  oldestWaiting(): Job | undefined {
    return this.sql(`SELECT ${COLUMNS} FROM jobs WHERE state IN ('queued','retry-wait') ORDER BY created_at, id LIMIT 1`).get() as Job | undefined;
  }

  withState(state: JobState, limit = 1000): Job[] {
    return this.sql(`SELECT ${COLUMNS} FROM jobs WHERE state = ? ORDER BY id LIMIT ?`).all(state, limit) as Job[];
  }

  /** Jobs whose last attempt left an error, most recent first. */
  recentErrors(limit: number): ProblemReport[] {
    const rows = this.sql(`SELECT source_path AS file, object_key AS key, last_error_code AS code,
      last_error AS reason, updated_at AS at FROM jobs WHERE last_error IS NOT NULL AND state != 'done'
      ORDER BY updated_at DESC, id DESC LIMIT ?`).all(limit) as (Omit<ProblemReport, 'at'> & { at: number })[];
    return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  }
}
