// Runs the queue: claims due jobs up to the concurrency limit, uploads each, and moves it to its
// next state in one transaction. Transient failures wait with backoff; failures a person must fix
// (credentials, a conflict, a vanished file) are parked in `needs-attention`, never retried in a loop.
import type { KeyringNode } from '@aws-crypto/client-node';
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encrypting, encryptionContext, namedHeader } from '../crypto/envelope.js';
import type { InFlightUpload, JobEvent } from '../../../src-shared/api.js';
import { StoreError, METADATA, type ObjectStore } from '../store/types.js';
import { toStoreError } from '../store/errors.js';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import type { Job, JobRepository } from './jobs.js';

export interface RunnerOptions extends BackoffPolicy {
  concurrency: number;
  workstationId: string;
  /** Unknown errors are retried this many times before a person is asked. */
  maxUnknownAttempts?: number;
  /** How long `stop()` lets uploads in flight finish before parking them. */
  stopGraceMs?: number;
  now?: () => number;
  random?: () => number;
}

interface Active {
  job: Job;
  sent: number;
  abort: AbortController;
  done: Promise<void>;
}

/** Client-side encryption of every upload; null in sse-only mode. */
export type RunnerEncryption = { keyring: KeyringNode; keyIds: string[] } | null;

/** True when the object key does not carry the file's name (an {opaque} template). */
function named(job: Job): boolean {
  return !job.objectKey.endsWith(`/${basename(job.sourcePath)}`) && job.kind !== 'dicom';
}

/** Emits `head` before the first chunk (and for an empty file, before the end). */
function prepend(head: Buffer): Transform {
  let sent = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (!sent) { sent = true; this.push(head); }
      done(null, chunk);
    },
    flush(done) {
      if (!sent) this.push(head);
      done();
    },
  });
}

export class QueueRunner extends EventEmitter<{ job: [JobEvent]; idle: [] }> {
  private readonly active = new Map<number, Active>();
  private paused = false;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly jobs: JobRepository, private readonly store: ObjectStore, private readonly opts: RunnerOptions) {
    super();
    this.now = opts.now ?? Date.now;
  }

  private encryption: RunnerEncryption = null;

  /** Starts uploading; `encryption` is required so that nothing is ever sent unencrypted by mistake. */
  start(encryption: RunnerEncryption): void {
    this.encryption = encryption;
    this.running = true;
    this.pump();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  inFlight(): InFlightUpload[] {
    return [...this.active.values()].map((a) => ({ jobId: a.job.id, file: a.job.sourcePath, key: a.job.objectKey, size: a.job.size, sent: a.sent }));
  }

  /** Looks for due jobs now (call after enqueueing). */
  pump(): void {
    if (!this.running || this.paused) return;
    const free = this.opts.concurrency - this.active.size;
    for (const job of this.jobs.claimDue(free)) this.launch(job);
    this.armTimer();
    if (this.active.size === 0) this.emit('idle');
  }

  /** Stops claiming; lets uploads in flight finish for a grace period, then parks them as queued. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    const pending = [...this.active.values()];
    const grace = new Promise<void>((r) => setTimeout(r, this.opts.stopGraceMs ?? 5000).unref());
    await Promise.race([Promise.all(pending.map((a) => a.done)), grace]);
    for (const a of this.active.values()) a.abort.abort();
    await Promise.all(pending.map((a) => a.done));
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.jobs.nextRetryAt();
    if (next === null || !this.running) return;
    this.timer = setTimeout(() => this.pump(), Math.max(10, next - this.now()));
    this.timer.unref();
  }

  private launch(job: Job): void {
    const a: Active = { job, sent: 0, abort: new AbortController(), done: Promise.resolve() };
    this.active.set(job.id, a);
    this.publish(job, 'uploading', { sent: 0 });
    a.done = this.upload(a).finally(() => {
      this.active.delete(job.id);
      this.pump();
    });
  }

  private async upload(a: Active): Promise<void> {
    const { job } = a;
    try {
      const s = await stat(job.sourcePath).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw new StoreError('not-found', `${job.sourcePath} vanished before it was uploaded to ${job.objectKey}`, false);
        throw e;
      });
      if (s.size !== job.size || Math.trunc(s.mtimeMs) !== job.mtimeMs) {
        // The watcher sees the change and re-takes the file; this job waits for that.
        const message = `${job.sourcePath} changed after it was queued; waiting for it to settle`;
        this.jobs.setState(job.id, 'retry-wait', { code: 'bad-input', message, nextAttemptAt: this.now() + this.opts.baseMs * 5 });
        this.publish(job, 'retry-wait', { error: { code: 'bad-input', message } });
        return;
      }
      const read = { bytes: 0, hash: createHash('sha256') };
      const body = this.body(job, read, (sent) => { a.sent = sent; this.publish(job, 'uploading', { sent }); });
      await this.store.put({
        key: job.objectKey, body, source: job.sourcePath, contentType: this.encryption ? 'application/octet-stream' : job.contentType,
        metadata: {
          [METADATA.kind]: job.kind,
          [METADATA.workstation]: this.opts.workstationId,
          [METADATA.uploadedAt]: new Date(this.now()).toISOString(),
          [METADATA.format]: this.encryption ? (named(job) ? 'esdk2-named' : 'esdk2') : 'plain',
          [METADATA.job]: `${this.opts.workstationId}/${job.id}`,
          ...(this.encryption ? { [METADATA.keyIds]: this.encryption.keyIds.join(',') } : {}),
        },
        signal: a.abort.signal,
      });
      if (read.bytes !== job.size || read.hash.digest('hex') !== job.sha256) {
        // Written while we read it: upload the settled content again (the watcher re-takes it).
        const message = `${job.sourcePath} changed while it was uploaded; it will be uploaded again once it settles`;
        this.jobs.setState(job.id, 'retry-wait', { code: 'bad-input', message, nextAttemptAt: this.now() + this.opts.baseMs * 5 });
        this.publish(job, 'retry-wait', { error: { code: 'bad-input', message } });
        return;
      }
      this.jobs.setState(job.id, 'done', { uploadedAt: this.now() });
      this.publish(job, 'done', { sent: job.size });
    } catch (e) {
      this.fail(job, toStoreError(e, `upload of ${job.sourcePath} to ${job.objectKey}`), a.abort.signal.aborted);
    }
  }

  /** The file, hashed and counted as it is read, then encrypted (unless the store is sse-only). */
  private body(job: Job, read: { bytes: number; hash: Hash }, onProgress: (sent: number) => void): Readable {
    const source = createReadStream(job.sourcePath, { highWaterMark: 1024 * 1024 });
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        read.hash.update(chunk);
        read.bytes += chunk.length;
        onProgress(read.bytes);
        done(null, chunk);
      },
    });
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const stages: NodeJS.ReadWriteStream[] = [meter];
    const enc = this.encryption;
    if (enc) {
      // A key without the file name ({opaque}) keeps the name inside the ciphertext.
      const header = named(job) ? namedHeader({ originalName: basename(job.sourcePath) }) : null;
      if (header) stages.push(prepend(header));
      stages.push(encrypting(enc.keyring, encryptionContext(job.kind, this.opts.workstationId), job.size + (header?.length ?? 0)));
    }
    pipeline([source, ...stages, out]).catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    return out;
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
      this.publish(job, state, { error });
      return;
    }
    const delay = retryDelayMs(job.attempts, this.opts, this.opts.random, err.retryAfterMs ?? 0);
    this.jobs.setState(job.id, 'retry-wait', { ...error, nextAttemptAt: this.now() + delay });
    this.publish(job, 'retry-wait', { error });
  }

  private publish(job: Job, state: JobEvent['state'], extra: Partial<JobEvent> = {}): void {
    this.emit('job', { jobId: job.id, file: job.sourcePath, key: job.objectKey, state, size: job.size, ...extra });
  }
}
