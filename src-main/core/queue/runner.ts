// Runs the queue: claims due jobs up to the concurrency limit, prepares each payload (encrypted),
// writes it exactly once, and hands the committed job to the verifier (verifier.ts), which checks
// it in the store and marks it done; each step is one transaction (the verifier writes the
// commits of a tenth of a second, and the verdicts of a round, each in one). An upload slot is free again
// at `committed`. Transient failures wait with backoff; a store that cannot be reached stops all
// claiming until a probe finds it again; failures a person must fix (credentials, a conflict, a
// vanished file) are parked in `needs-attention`, never retried in a loop.
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { InFlightUpload, JobEvent } from '../../../src-shared/api.js';
import type { IndexEntry } from '../catalog/entry.js';
import { toStoreError } from '../store/errors.js';
import { METADATA, StoreError, type ObjectStore, type UploadJournal } from '../store/types.js';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import { Connectivity } from './connectivity.js';
import type { Job, JobRepository } from './jobs.js';
import { discardSpool, EncryptionTurns, preparePayload, type Payload, type RunnerEncryption } from './payload.js';
import { Slots } from '../slots.js';
import { TokenBucket } from './throttle.js';
import { Verifier, type Committed } from './verifier.js';

export type { RunnerEncryption } from './payload.js';

export interface RunnerOptions extends BackoffPolicy {
  /** Uploads on the wire at once. */
  concurrency: number;
  /**
   * Small records (up to `sealAheadMaxBytes`, default 1 MiB) prepared ahead while every upload slot
   * is busy, so that a slot that frees finds its next payload encrypted and sends at once (default:
   * as many as `concurrency`). Costs at most this many small ciphertexts in memory.
   */
  sealAhead?: number;
  sealAheadMaxBytes?: number;
  workstationId: string;
  /** Where large records are encrypted to before upload (ciphertext only). */
  spoolDir: string;
  /** Multipart part size; smaller records are encrypted in memory and sent in one request. */
  partSize: number;
  /** Average upload rate limit in bytes per second; none when absent. */
  maxBytesPerSecond?: number | undefined;
  /** Unknown errors are retried this many times before a person is asked. */
  maxUnknownAttempts?: number;
  /** How long `stop()` lets uploads in flight finish, and committed ones be verified, before parking them. */
  stopGraceMs?: number;
  /**
   * Committed uploads that may wait for verification (default 500); beyond about that many, no new
   * upload starts, so a slow store throttles uploads instead of the queue running ahead of it.
   * Costs little memory: a job's row and its ETag, no data.
   */
  maxUnverified?: number;
  /**
   * How long verification waits for more commits to check them together, while uploads are in
   * flight (default 200 ms). With none in flight it starts at once: a lone file waits for nothing.
   */
  verifyLingerMs?: number;
  /** The same wait once a backlog streams in (default five times `verifyLingerMs`): see verifier.ts. */
  verifyBacklogLingerMs?: number;
  now?: () => number;
  random?: () => number;
  log?: (message: string) => void;
  /** The encrypted day index: an entry per verified record, queued in the same transaction. */
  index?: DayIndex;
}

/** What the runner needs of the day index writer (core/catalog/index-writer.ts). */
export interface DayIndex {
  entryFor(job: Job): Promise<IndexEntry>;
  enqueue(entry: IndexEntry): void;
}

interface Active {
  job: Job;
  sent: number;
  abort: AbortController;
  done: Promise<void>;
}

export class QueueRunner extends EventEmitter<{ job: [JobEvent]; idle: []; connectivity: [boolean] }> {
  private readonly active = new Map<number, Active>();
  private paused = false;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private holdUntil = 0;
  private encryption: RunnerEncryption = null;
  private readonly now: () => number;
  private readonly bucket: TokenBucket | null;
  private readonly verifier: Verifier;
  private readonly maxUnverified: number;
  private readonly encryptionTurns = new EncryptionTurns();
  private readonly sendSlots: Slots;
  /** Jobs taken at once: those on the wire, plus small ones being prepared ahead. */
  private readonly depth: number;
  readonly connectivity: Connectivity;

  constructor(private readonly jobs: JobRepository, private readonly store: ObjectStore, private readonly opts: RunnerOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.bucket = opts.maxBytesPerSecond ? new TokenBucket(opts.maxBytesPerSecond) : null;
    this.connectivity = new Connectivity(() => this.store.probe(), { baseMs: opts.baseMs, maxMs: Math.min(opts.maxMs, 60_000) }, opts.random);
    this.connectivity.on('probe', (ok) => { if (!ok) opts.log?.(`probe ${this.connectivity.probes}: still unreachable`); });
    this.connectivity.on('change', (online) => {
      opts.log?.(online ? `store ${store.location} reachable again; resuming uploads` : `store ${store.location} unreachable; probing with backoff`);
      if (online) {
        this.jobs.dueNow('network');
        this.pump();
        this.verifier.nudge();
      }
      this.emit('connectivity', online);
    });
    this.maxUnverified = opts.maxUnverified ?? 500;
    this.sendSlots = new Slots(opts.concurrency);
    this.depth = opts.concurrency + (opts.sealAhead ?? opts.concurrency);
    const lingerMs = opts.verifyLingerMs ?? 200;
    this.verifier = new Verifier(jobs, store, {
      maxWaiting: this.maxUnverified, lingerMs, backlogLingerMs: opts.verifyBacklogLingerMs ?? 5 * lingerMs, requests: opts.concurrency,
      baseMs: opts.baseMs, maxMs: opts.maxMs, random: opts.random, now: this.now, log: opts.log, index: opts.index,
      moreComing: () => this.running && this.active.size > 0,
      online: () => this.connectivity.online,
      lost: () => this.connectivity.lost(),
      failed: (c, err) => this.fail(c.job, err, false),
      publish: (job, state, extra) => this.publish(job, state, extra),
      settled: () => this.pump(),
    });
  }

  /** Starts uploading; `encryption` is required so that nothing is ever sent unencrypted by mistake. */
  start(encryption: RunnerEncryption): void {
    this.encryption = encryption;
    this.running = true;
    this.pump();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isOnline(): boolean {
    return this.connectivity.online;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Uploads under way. Committed jobs waiting for verification hold no slot: status counts them as `committed`. */
  inFlight(): InFlightUpload[] {
    return [...this.active.values()].map((a) => ({ jobId: a.job.id, file: a.job.sourcePath, key: a.job.objectKey, size: a.job.size, sent: a.sent }));
  }

  /** Looks for due jobs now (call after enqueueing). */
  pump(): void {
    if (!this.running || this.paused || !this.connectivity.online) return;
    if (this.now() < this.holdUntil) return this.armTimer(this.holdUntil);
    // Every upload will wait for verification once committed: those in flight count against the bound.
    const room = Math.min(this.depth - this.active.size, this.maxUnverified - this.verifier.size - this.active.size);
    // A claim is a read and a transaction: while the wire is busy, claim once there is room for a
    // batch (the jobs being prepared ahead), not after every upload.
    if (room > 0 && (this.active.size < this.opts.concurrency || room >= this.depth - this.opts.concurrency)) {
      for (const job of this.jobs.claimDue(room)) this.launch(job);
      this.armTimer(this.jobs.nextRetryAt());
    }
    if (this.active.size === 0 && this.verifier.size === 0) this.emit('idle');
  }

  /**
   * Stops claiming; lets uploads in flight finish and committed ones be verified for a grace
   * period, then parks the rest as queued (a restart re-sends them and recognises its own objects).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.connectivity.stop();
    if (this.timer) clearTimeout(this.timer);
    const graceMs = this.opts.stopGraceMs ?? 5000;
    const deadline = Date.now() + graceMs;
    const pending = [...this.active.values()];
    const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(pending.map((a) => a.done)), grace]);
    for (const a of this.active.values()) a.abort.abort();
    await Promise.all(pending.map((a) => a.done));
    await this.verifier.stop(deadline);
  }

  private armTimer(at: number | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (at === null || !this.running) return;
    this.timer = setTimeout(() => this.pump(), Math.max(10, at - this.now()));
    this.timer.unref();
  }

  private launch(job: Job): void {
    const a: Active = { job, sent: 0, abort: new AbortController(), done: Promise.resolve() };
    this.active.set(job.id, a);
    this.publish(job, 'uploading', { sent: 0 });
    let committed: Committed | null = null;
    a.done = this.upload(a).then((c) => { committed = c; }).finally(() => {
      this.active.delete(job.id);
      if (committed) this.verifier.add(committed);
      // Claim the next uploads first: the verifier waits a little for commits only while some are coming.
      this.pump();
      this.verifier.nudge();
    });
  }

  private journal(job: Job): UploadJournal {
    const jobs = this.jobs;
    const fresh = () => jobs.get(job.id)!;
    return {
      get uploadId() { return fresh().uploadId; },
      get partSize() { return fresh().partSize; },
      get parts() { return jobs.parts(job.id); },
      begin: (uploadId, partSize) => jobs.beginUpload(job.id, uploadId, partSize, fresh().storedSize ?? 0),
      partDone: (part) => jobs.partDone(job.id, part),
      resumed: (count) => { if (count) jobs.addResumedParts(job.id, count); },
      end: () => jobs.endUpload(job.id),
    };
  }

  /** Sends the job's payload; returns it committed, or null when it failed (the job has moved on). */
  private async upload(a: Active): Promise<Committed | null> {
    const { job } = a;
    // A small record is encrypted before its turn on the wire; a large one only once it has a slot
    // (its ciphertext goes to the spool, which should not run ahead of the uploads).
    const ahead = job.size <= (this.opts.sealAheadMaxBytes ?? 1024 * 1024);
    let release: (() => void) | null = null;
    let prepared: Payload | null = null;
    try {
      // A wait given up by a stop rejects, and fail() parks the job.
      if (!ahead) release = await this.sendSlots.acquire(a.abort.signal);
      // A blocking stat: a few microseconds, where the asynchronous one costs a thread-pool round trip per file.
      const s = statSync(job.sourcePath, { throwIfNoEntry: false });
      if (!s) throw new StoreError('not-found', `${job.sourcePath} vanished before it was uploaded to ${job.objectKey}; put it back and run "medrelay retry"`, false);
      if (s.size !== job.size || Math.trunc(s.mtimeMs) !== job.mtimeMs) return this.changed(job, 'changed after it was queued');
      const payload = await preparePayload(job, {
        encryption: this.encryption, workstationId: this.opts.workstationId, spoolDir: this.opts.spoolDir, inMemoryLimit: this.opts.partSize,
        turns: this.encryptionTurns,
        forgetUpload: async () => {
          // New ciphertext: parts of an earlier upload cannot be reused. Forget it in the database
          // before the new spool exists, so no crash can pair the two.
          const current = this.jobs.get(job.id)?.uploadId;
          if (!current) return;
          this.jobs.endUpload(job.id);
          await this.store.abortUpload?.(job.objectKey, current).catch(() => {});
        },
      });
      if (payload === 'changed') return this.changed(job, 'changed while it was read');
      prepared = payload;
      release ??= await this.sendSlots.acquire(a.abort.signal);
      // A multipart upload records the stored size when it begins (journal.begin); one request needs it only at commit.
      if (!('buffer' in payload.data)) this.jobs.setStoredSize(job.id, payload.storedSize);
      await this.bucket?.take(payload.storedSize - (job.storedSize === payload.storedSize ? this.jobs.parts(job.id).reduce((n, p) => n + p.size, 0) : 0));
      const token = `${this.opts.workstationId}/${job.id}`;
      const written = await this.store.put({
        key: job.objectKey, data: payload.data, source: job.sourcePath,
        contentType: this.encryption ? 'application/octet-stream' : job.contentType,
        metadata: {
          [METADATA.kind]: job.kind,
          [METADATA.workstation]: this.opts.workstationId,
          [METADATA.uploadedAt]: new Date(this.now()).toISOString(),
          [METADATA.format]: payload.format,
          [METADATA.job]: token,
          ...(this.encryption ? { [METADATA.keyIds]: this.encryption.keyIds.join(',') } : {}),
        },
        // Only a spooled record goes in parts; one in memory is one request, with nothing to journal.
        ...('buffer' in payload.data ? {} : { journal: this.journal(job) }),
        onProgress: (sent) => {
          a.sent = Math.round((sent / Math.max(1, payload.storedSize)) * job.size);
          this.publish(job, 'uploading', { sent: a.sent });
        },
        signal: a.abort.signal,
      });
      if (!this.encryption) {
        const after = await stat(job.sourcePath).catch(() => null);
        if (!after || after.size !== job.size || Math.trunc(after.mtimeMs) !== job.mtimeMs) return this.changed(job, 'changed while it was uploaded');
      }
      // The verifier writes `committed` for this and the other commits of the moment together.
      this.publish(job, 'committed');
      return { job, token, storedSize: payload.storedSize, written, discard: payload.discard };
    } catch (e) {
      this.fail(job, toStoreError(e, `upload of ${job.sourcePath} to ${job.objectKey}`), a.abort.signal.aborted);
      return null;
    } finally {
      release?.();
      prepared?.release?.();
    }
  }

  private changed(job: Job, what: string): null {
    // The watcher sees the change and re-takes the file with its new content; this job waits.
    const message = `${job.sourcePath} ${what}; it will be uploaded once it settles`;
    this.jobs.setState(job.id, 'retry-wait', { code: 'bad-input', message, nextAttemptAt: this.now() + this.opts.baseMs * 5 });
    this.publish(job, 'retry-wait', { error: { code: 'bad-input', message } });
    return null;
  }

  private fail(job: Job, err: StoreError, stopped: boolean): void {
    if (stopped && !this.running) {
      this.jobs.setState(job.id, 'queued', { code: 'network', message: 'parked when MedRelay stopped' });
      this.publish(job, 'queued');
      return;
    }
    const error = { code: err.code, message: err.message };
    const maxUnknown = this.opts.maxUnknownAttempts ?? 8;
    if (!err.retryable || (err.code === 'internal' && job.attempts >= maxUnknown)) {
      const state = err.code === 'bad-input' ? 'failed' : 'needs-attention';
      this.jobs.setState(job.id, state, error);
      // Parked: its ciphertext is made again if a person brings it back.
      void discardSpool(this.opts.spoolDir, job.id);
      this.publish(job, state, { error });
      return;
    }
    if (err.condition === 'unreachable') {
      // Not the job's fault: wait for the store, without spending the job's backoff.
      this.jobs.setState(job.id, 'retry-wait', { ...error, nextAttemptAt: this.now() });
      this.publish(job, 'retry-wait', { error });
      this.connectivity.lost();
      return;
    }
    if (err.condition === 'throttled' && err.retryAfterMs) this.holdUntil = Math.max(this.holdUntil, this.now() + err.retryAfterMs);
    const delay = retryDelayMs(job.attempts, this.opts, this.opts.random, err.retryAfterMs ?? 0);
    this.jobs.setState(job.id, 'retry-wait', { ...error, nextAttemptAt: this.now() + delay });
    this.publish(job, 'retry-wait', { error });
  }

  private publish(job: Job, state: JobEvent['state'], extra: Partial<JobEvent> = {}): void {
    // A job that left the upload is no longer in flight for whoever reads the status on this event.
    if (state !== 'uploading' && state !== 'committed') this.active.delete(job.id);
    this.emit('job', { jobId: job.id, file: job.sourcePath, key: job.objectKey, state, size: job.size, ...extra });
  }
}
