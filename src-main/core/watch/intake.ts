// Takes a stable file into the queue: skip a version already known, check it is complete by its
// format, classify it, hash it (noting the file's identity, so the upload need not hash it again),
// compute its key, and enqueue it. Nothing half-written is taken. Many files at once (a pass of
// `agent --once`, a backlog the watcher finds) are prepared one by one and queued a few at a time,
// in one transaction (prepare and commit, takeSoon).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { objectKey, templateFor, usesOpaqueName, type KeyLayout } from '../../../src-shared/keys.js';
import { opaqueId } from '../records/opaque-name.js';
import { takeWholeSync, type LentBytes } from '../records/file-bytes.js';
import { inspectBytes, inspectFile, type WatchKind } from '../records/inspect.js';
import type { EnqueueOutcome, JobRepository, NewJob } from '../queue/jobs.js';
import type { FileReports } from '../queue/file-reports.js';
import { fileIdentity, mtimeMsOf, sameFile } from '../queue/file-identity.js';
import type { FileVersion } from './stability.js';

export type IntakeOutcome =
  | { result: 'known' }
  | { result: 'enqueued'; enqueue: EnqueueOutcome }
  /** Stable but not complete; `reported` once the wait for it is over. */
  | { result: 'incomplete'; reason: string; reported: boolean }
  | { result: 'rejected'; reason: string }
  /** Changed or vanished while being looked at; the watcher will see it again. */
  | { result: 'moved-on' };

/** A file read, checked, classified and hashed, to be queued by Intake.commit. */
export interface ReadyFile {
  result: 'ready';
  job: NewJob;
}

/** A prepared file the queue refused (its database write failed). */
export interface RefusedFile {
  result: 'refused';
  /** Names the file; the database's own error is its cause. */
  error: Error;
}

function refusal(r: ReadyFile, cause: unknown): RefusedFile {
  const why = cause instanceof Error ? cause.message : String(cause);
  return { result: 'refused', error: new Error(`${r.job.sourcePath} could not be queued: ${why}`, { cause }) };
}

export interface IntakeOptions {
  layout: KeyLayout;
  prefix: string;
  /** Salt for {opaque} key ids (see records/opaque-name.ts). */
  namingSalt: Buffer;
}

export interface HashedFile {
  sha256: string;
  /** See queue/file-identity.ts; null when the file system cannot vouch for the bytes. */
  identity: string | null;
  size: number;
  mtimeMs: number;
}

/**
 * Hashes a file through one open descriptor, fstat before and after: 'changed' when the two differ
 * (it was written while being read). `nowMs` is the wall clock, which file times come from.
 */
export async function hashFile(path: string, nowMs = Date.now()): Promise<HashedFile | 'changed'> {
  const fh = await open(path, 'r');
  try {
    const before = await fh.stat({ bigint: true });
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(1024 * 1024, Number(before.size))));
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    const after = await fh.stat({ bigint: true });
    if (!sameFile(before, after)) return 'changed';
    const sha256 = hash.digest('hex');
    return { sha256, identity: fileIdentity(sha256, after, nowMs), size: Number(after.size), mtimeMs: mtimeMsOf(after) };
  } finally {
    await fh.close();
  }
}

export class Intake {
  /** Files prepared by takeSoon, to be queued together. */
  private readonly readyFiles: Array<{ file: ReadyFile; settle: (r: IntakeOutcome | RefusedFile) => void }> = [];

  constructor(
    private readonly jobs: JobRepository,
    private readonly reports: FileReports,
    private readonly opts: IntakeOptions,
  ) {}

  /**
   * Takes one file, for a caller that hands over many at about the same time, each on its own (the
   * watcher, when it finds a backlog): the files prepared meanwhile are queued together at the next
   * turn of the event loop, in one transaction (`commit`). Throws when the queue refuses it.
   */
  async takeSoon(path: string, version: FileVersion, watchKind: WatchKind, final: boolean): Promise<IntakeOutcome> {
    const r = await this.prepare(path, version, watchKind, final);
    if (r.result !== 'ready') return r;
    const queued = await new Promise<IntakeOutcome | RefusedFile>((settle) => {
      if (this.readyFiles.push({ file: r, settle }) === 1) setImmediate(() => this.queueReadyFiles());
    });
    if (queued.result === 'refused') throw queued.error;
    return queued;
  }

  private queueReadyFiles(): void {
    const batch = this.readyFiles.splice(0);
    const queued = this.commit(batch.map((b) => b.file));
    batch.forEach((b, i) => b.settle(queued[i]!));
  }

  /**
   * Reads, checks, classifies and hashes a file: ready to be queued by `commit`, or why it is not
   * taken. `final`: the file has been stable for the whole incomplete-wait (or this is a one-shot
   * run), so an incomplete file is reported now rather than looked at again later.
   */
  async prepare(path: string, version: FileVersion, watchKind: WatchKind, final: boolean): Promise<IntakeOutcome | ReadyFile> {
    if (this.jobs.hasVersion(path, version.size, version.mtimeMs)) return { result: 'known' };
    // A small file is read once, and inspected and hashed from memory.
    const whole = takeWholeSync(path, version);
    if (whole === 'changed') return { result: 'moved-on' };
    try {
      return await this.takeVersion(path, version, watchKind, final, whole);
    } finally {
      whole?.release();
    }
  }

  /**
   * Queues prepared files in one transaction: one each cost a backlog of small records about 90 µs
   * more per file here (160 against 50-60 µs with eight to a transaction). When the transaction
   * fails, they are queued one by one, so that one the queue refuses does not hold up the others.
   * Returns each file's outcome, in order, or why the queue refused it.
   */
  commit(ready: readonly ReadyFile[]): Array<IntakeOutcome | RefusedFile> {
    const queue = (r: ReadyFile): IntakeOutcome => {
      const enqueue = this.jobs.enqueue(r.job);
      this.reports.clear(r.job.sourcePath);
      return { result: 'enqueued', enqueue };
    };
    let out: Array<IntakeOutcome | RefusedFile> = [];
    try {
      this.jobs.transaction(() => { out = ready.map(queue); });
      return out;
    } catch (e) {
      if (ready.length === 1) return [refusal(ready[0]!, e)];
    }
    out = [];
    for (const r of ready) {
      try {
        this.jobs.transaction(() => { out.push(queue(r)); });
      } catch (e) {
        out.push(refusal(r, e));
      }
    }
    return out;
  }

  private async takeVersion(path: string, version: FileVersion, watchKind: WatchKind, final: boolean, whole: LentBytes | null): Promise<IntakeOutcome | ReadyFile> {
    let inspection;
    try {
      inspection = whole
        ? await inspectBytes(path, whole.bytes, { watchKind, mtimeMs: version.mtimeMs })
        : await inspectFile(path, { watchKind, mtimeMs: version.mtimeMs, size: version.size });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { result: 'moved-on' };
      throw e;
    }
    if (inspection.status === 'rejected') {
      this.reports.report(path, version.size, version.mtimeMs, 'bad-input', inspection.reason);
      return { result: 'rejected', reason: inspection.reason };
    }
    if (inspection.status === 'incomplete') {
      if (final) this.reports.report(path, version.size, version.mtimeMs, 'incomplete', `${path}: ${inspection.reason}; not uploaded`);
      return { result: 'incomplete', reason: inspection.reason, reported: final };
    }
    const { record } = inspection;
    const ref = usesOpaqueName(templateFor(record.ref.kind, this.opts.layout))
      ? { ...record.ref, opaqueId: opaqueId(this.opts.namingSalt, record.ref) } : record.ref;
    const key = objectKey(ref, this.opts.layout, this.opts.prefix);
    if (!key.ok) {
      const reason = `${path}: ${key.error.message}`;
      this.reports.report(path, version.size, version.mtimeMs, 'bad-input', reason);
      return { result: 'rejected', reason };
    }
    let hashed: HashedFile | 'changed';
    if (whole) {
      // takeWholeSync read it between two fstat calls that agreed, at the expected version.
      const sha256 = createHash('sha256').update(whole.bytes).digest('hex');
      hashed = { sha256, identity: fileIdentity(sha256, whole.stats, Date.now()), size: version.size, mtimeMs: version.mtimeMs };
    } else {
      try {
        hashed = await hashFile(path);
        if (hashed === 'changed' || hashed.size !== version.size || hashed.mtimeMs !== version.mtimeMs) return { result: 'moved-on' };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { result: 'moved-on' };
        throw e;
      }
    }
    return {
      result: 'ready',
      job: {
        sourcePath: path, size: version.size, mtimeMs: version.mtimeMs, sha256: hashed.sha256, fileIdentity: hashed.identity,
        kind: record.ref.kind, recordDate: record.ref.date, objectKey: key.value, contentType: record.contentType,
      },
    };
  }
}
