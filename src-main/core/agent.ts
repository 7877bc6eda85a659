// Composition root of the core services, used by the CLI and by Electron main: builds the store,
// the database, the queue, the intake and the watcher from one resolved config.
import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AppApi, AppEvents, StatusSnapshot, StoredRecord } from '../../src-shared/api.js';
import { dayPrefixes, describeKey } from '../../src-shared/keys.js';
import { fail, ok, type Result } from '../../src-shared/result.js';
import { ConfigError, type ResolvedConfig } from './config/load.js';
import { defaultPolicyPath, loadEffectiveConfig } from './config/policy.js';
import { prepareDemo } from './demo/profile.js';
import { openDatabase, type Db } from './db/open.js';
import { FileReports } from './queue/file-reports.js';
import { JobRepository } from './queue/jobs.js';
import { QueueRunner, type RunnerEncryption } from './queue/runner.js';
import { buildEncryptKeyrings, keyIdOf } from './crypto/keyrings.js';
import { Sealer } from './crypto/sealer.js';
import { KeychainSecretStore, type SecretStore } from './secrets/secret-store.js';
import { RecordReader } from './store/record-reader.js';
import { Retention } from './queue/retention.js';
import { WHOLE_READ_MAX } from './records/file-bytes.js';
import { namingSalt } from './records/opaque-name.js';
import { FolderStore } from './store/folder.js';
import { createS3Client, S3Store } from './store/s3.js';
import { Browsing } from './catalog/browsing.js';
import { METADATA, StoreError, type ObjectStore } from './store/types.js';
import { lookAt, versionOf, type FolderLook } from './watch/first-look.js';
import { Intake, type IntakeOutcome, type ReadyFile } from './watch/intake.js';
import type { FileVersion } from './watch/stability.js';
import { FolderWatcher } from './watch/watcher.js';
import { createLogger, type Logger } from './log.js';

export interface AgentDeps {
  store?: ObjectStore;
  /** The OS keychain by default; null where there is none (key files and env credentials only). */
  secrets?: SecretStore | null;
  log?: Logger;
  now?: () => number;
}

export interface OnceSummary {
  scanned: number;
  enqueued: number;
  alreadyKnown: number;
  delivered: number;
  incomplete: { file: string; reason: string }[];
  rejected: { file: string; reason: string }[];
  needsAttention: { file: string; key: string; reason: string }[];
  failed: { file: string; key: string; reason: string }[];
  /** Jobs still waiting to retry when this run gave up on them. */
  notDelivered: { file: string; key: string; reason: string }[];
  /** Source files archived or deleted by the retention policy. */
  retained: number;
}

export function createStore(config: ResolvedConfig, secrets: SecretStore | null): ObjectStore {
  return config.store.type === 'folder'
    ? new FolderStore(config.store.path)
    // Parts in flight are a budget for all uploads together: one alone on the wire may use it all.
    : new S3Store(createS3Client(config.store, config.credentials, secrets), config.store, { partBudget: config.queue.concurrency * config.store.partsInFlight });
}

export class Agent extends EventEmitter<{ [K in keyof AppEvents]: [AppEvents[K]] }> {
  readonly db: Db;
  readonly jobs: JobRepository;
  readonly reports: FileReports;
  readonly store: ObjectStore;
  readonly queue: QueueRunner;
  readonly records: RecordReader;
  readonly retention: Retention;
  /** Day index, catalog, preview and share links (core/catalog/). */
  readonly browsing: Browsing;
  private retentionTimer: NodeJS.Timeout | null = null;
  /** The worker thread that encrypts small records, while uploads run. */
  private sealer: Sealer | null = null;
  private readonly intake: Intake;
  private watcher: FolderWatcher | null = null;
  private readonly log: Logger;
  private readonly now: () => number;
  readonly secrets: SecretStore | null;

  constructor(readonly config: ResolvedConfig, deps: AgentDeps = {}) {
    super();
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? { info() {}, warn() {}, error() {} };
    this.secrets = deps.secrets === undefined ? new KeychainSecretStore() : deps.secrets;
    this.store = deps.store ?? createStore(config, this.secrets);
    this.db = openDatabase(join(config.dataDir, 'medrelay.db'));
    this.jobs = new JobRepository(this.db, this.now);
    this.reports = new FileReports(this.db, this.now);
    this.intake = new Intake(this.jobs, this.reports, { layout: config.layout, prefix: config.store.prefix, namingSalt: namingSalt(this.db) });
    this.queue = new QueueRunner(this.jobs, this.store, {
      concurrency: config.queue.concurrency, baseMs: config.queue.retryBaseMs, maxMs: config.queue.retryMaxMs,
      maxBytesPerSecond: config.queue.maxBytesPerSecond, workstationId: config.workstationId, now: this.now,
      spoolDir: join(config.dataDir, 'spool'), partSize: config.store.type === 's3' ? config.store.partSizeBytes : 16 * 1024 * 1024,
      log: (m) => this.log.warn(m),
      // Bound late: browsing is built after the queue.
      index: { entryFor: (job) => this.browsing.index.entryFor(job), enqueue: (entry) => this.browsing.index.enqueue(entry) },
    });
    this.retention = new Retention(this.jobs, config.retention, config.watch.map((w) => w.path), this.log, this.now);
    this.records = new RecordReader(this.store, config.encryption, this.secrets);
    this.browsing = new Browsing(this.db, this.store, this.records, config, { now: this.now, log: (m) => this.log.warn(m) });
    this.queue.on('job', (e) => {
      this.emit('job', e);
      // Progress ticks are many; the status summary changes only with a job's state.
      if (!(e.state === 'uploading' && e.sent)) this.statusChanged();
      if (e.error) this.log.warn(`job ${e.jobId} ${e.state}: ${e.error.message}`);
      else if (e.state === 'done') this.log.info(`delivered ${e.file} as ${e.key}`);
    });
  }

  private statusTimer: NodeJS.Timeout | null = null;

  /**
   * Pushes the status summary to listeners (the window, the tray), at most every 250 ms: it costs
   * a few queries over the whole job table, too much to pay per job event with a large backlog.
   */
  private statusChanged(): void {
    if (this.listenerCount('status') === 0 || this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.emit('status', this.status());
    }, 250);
    this.statusTimer.unref();
  }

  /** Watched folders must exist: a typo in a path must not look like a quiet day. */
  checkFolders(): void {
    this.config.watch.forEach((w, i) => {
      let isDir = false;
      try { isDir = statSync(w.path).isDirectory(); } catch { /* reported below */ }
      if (!isDir) throw new ConfigError(`setting "watch[${i}].path" is "${w.path}": expected an existing folder`);
    });
  }

  /** Runs until stop(): watches the folders and uploads as files settle. */
  async start(): Promise<void> {
    this.checkFolders();
    const requeued = this.jobs.requeueInterrupted() + this.jobs.requeueParked();
    if (requeued) this.log.info(`resuming ${requeued} unfinished job(s)`);
    const encryption = await this.encryption();
    await this.abortStaleUploads();
    this.queue.start(encryption);
    this.browsing.index.start(encryption);
    this.retentionTimer = setInterval(() => void this.retention.run(), 60 * 60 * 1000);
    this.retentionTimer.unref();
    void this.retention.run();
    const { windowMs, incompleteAfterMs } = this.config.stability;
    this.watcher = new FolderWatcher(this.config.watch, windowMs, async (path, version, folder, stableFor) => {
      const final = stableFor >= incompleteAfterMs;
      const r = await this.intake.takeSoon(path, version, folder.kind, final);
      this.afterIntake(path, r);
      return r.result === 'incomplete' && !r.reported ? { recheckInMs: Math.max(windowMs, incompleteAfterMs - stableFor) } : 'done';
    }, (e) => this.log.error(`watcher: ${e.message}`));
    await this.watcher.start();
  }

  /** Multipart uploads left by a crash before the queue journaled them, or too old to be anyone's. */
  private async abortStaleUploads(): Promise<void> {
    if (!this.store.abortStaleUploads) return;
    try {
      const n = await this.store.abortStaleUploads(this.jobs.ownedUploads(), this.jobs.pendingKeys(), this.config.queue.staleUploadAfterMs, this.now());
      if (n) this.log.info(`aborted ${n} multipart upload(s) no job owns`);
    } catch (e) {
      this.log.warn(`could not look for stale multipart uploads: ${(e as Error).message}`);
    }
  }

  /** Loads the keys to encrypt with; fails before anything is uploaded if one is missing. */
  private async encryption(): Promise<RunnerEncryption> {
    const e = this.config.encryption;
    if (e.mode === 'sse-only') {
      this.log.warn('encryption.mode is "sse-only": records are uploaded without client-side encryption');
      return null;
    }
    const { keyring, specs } = await buildEncryptKeyrings(e, this.secrets);
    void this.sealer?.close();
    this.sealer = specs ? Sealer.start(specs) : null;
    return { keyring, keyIds: e.keyrings.map(keyIdOf), sealer: this.sealer };
  }

  private afterIntake(path: string, r: IntakeOutcome): void {
    if (r.result === 'enqueued') {
      if (r.enqueue.outcome === 'conflict') this.log.warn(r.enqueue.job.lastError ?? `conflict for ${path}`);
      this.queue.pump();
    } else if (r.result === 'rejected') {
      this.log.warn(r.reason);
    } else if (r.result === 'incomplete' && r.reported) {
      this.log.warn(`${path} is still incomplete (${r.reason}); not uploaded`);
    }
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.watcher?.stop();
    this.watcher = null;
    await this.queue.stop();
    await this.browsing.index.stop();
  }

  close(): void {
    void this.sealer?.close();
    this.sealer = null;
    // A status push still pending would read the closed database.
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.store.close();
    this.db.close();
  }

  /**
   * One pass: take every complete file in the watched folders, deliver everything queued, and
   * return what happened. Retryable failures are tried up to `maxAttempts` times in this run.
   * `firstLook`: the folders as the caller saw them before it made this agent (lookAt over the same
   * config's folders); the stability window is counted from it. Without it, the pass looks itself.
   */
  async runOnce(opts: { maxAttempts?: number; firstLook?: FolderLook } = {}): Promise<OnceSummary> {
    this.checkFolders();
    const maxAttempts = opts.maxAttempts ?? 4;
    const summary: OnceSummary = { scanned: 0, enqueued: 0, alreadyKnown: 0, delivered: 0, incomplete: [], rejected: [], needsAttention: [], failed: [], notDelivered: [], retained: 0 };
    this.jobs.requeueInterrupted();
    this.jobs.requeueParked();
    const doneBefore = this.jobs.counts().done;
    const encryption = await this.encryption();
    // Uploads start once the sweep of stale multipart uploads is over (a resumed upload must not
    // race it), and while the folders are still being scanned: taking a file (reading, hashing)
    // and sending the ones before it overlap. The sweep's listing runs during the scan's first
    // stability wait, which it seldom outlasts, rather than before it.
    const swept = this.abortStaleUploads().then(() => {
      this.queue.start(encryption);
      this.browsing.index.start(encryption);
    });
    await Promise.all([swept, this.scanStable(summary, opts.firstLook ?? await lookAt(this.config.watch))]);
    await this.drain(maxAttempts);
    await this.queue.stop();
    await this.browsing.index.stop();
    summary.retained = await this.retention.run();
    summary.delivered = this.jobs.counts().done - doneBefore;
    const describe = (j: { sourcePath: string; objectKey: string; lastError: string | null }) => ({ file: j.sourcePath, key: j.objectKey, reason: j.lastError ?? '' });
    summary.needsAttention = this.jobs.withState('needs-attention').map(describe);
    summary.failed = this.jobs.withState('failed').map(describe);
    summary.notDelivered = [...this.jobs.withState('retry-wait'), ...this.jobs.withState('queued')].map(describe);
    return summary;
  }

  /** Files must keep size and mtime for the stability window; one that keeps changing is waited for. */
  private async scanStable(summary: OnceSummary, look: FolderLook): Promise<void> {
    const { windowMs } = this.config.stability;
    type Pending = { folder: ResolvedConfig['watch'][number]; v: FileVersion | null };
    const found = look.files.map(({ file, folder, version }): [string, Pending] => [file, { folder, v: version }]);
    // Oldest first, across folders: the records a clinic waits for longest go first, and keys
    // (which sort by date and time) are sent nearly in order, so a verifying listing reads few
    // keys besides those it checks (queue/verifier.ts).
    let pending = new Map(found.sort(([a, p], [b, q]) => (p.v?.mtimeMs ?? 0) - (q.v?.mtimeMs ?? 0) || (a < b ? -1 : a > b ? 1 : 0)));
    summary.scanned = pending.size;
    // Small records will be encrypted on the worker thread: let it load during the stability wait.
    if ([...pending.values()].some((p) => p.v && p.v.size <= WHOLE_READ_MAX)) this.sealer?.warm();
    // When every pending file was last looked at: the next pass waits until a window has gone by since.
    let lookedAt = look.at;
    while (pending.size) {
      await new Promise((r) => setTimeout(r, Math.max(0, lookedAt + windowMs - performance.now())));
      const next: typeof pending = new Map();
      // Files ready to be queued: queued together at each turn of the event loop below (Intake.commit).
      const ready: ReadyFile[] = [];
      /** Counts what happened to a file; 'moved-on' is looked at again, by the caller. */
      const tally = (r: IntakeOutcome, file: string) => {
        if (r.result === 'known') summary.alreadyKnown++;
        else if (r.result === 'enqueued') {
          if (r.enqueue.outcome === 'duplicate') summary.alreadyKnown++;
          else summary.enqueued++;
        }
        else if (r.result === 'incomplete') summary.incomplete.push({ file, reason: r.reason });
        else if (r.result === 'rejected') summary.rejected.push({ file, reason: r.reason });
      };
      const queueReady = () => {
        if (ready.length === 0) return;
        const batch = ready.splice(0);
        let refused: Error | null = null;
        for (const [i, r] of this.intake.commit(batch).entries()) {
          if (r.result === 'refused') refused ??= r.error;
          else tally(r, batch[i]!.job.sourcePath);
        }
        this.queue.pump();
        // The queue's database failed: the run stops, as it would have at that file alone.
        if (refused !== null) throw refused;
      };
      let yielded = performance.now();
      for (const [file, p] of pending) {
        // Taking a small file never waits for I/O (blocking reads), so without this a folder of
        // them would hold the event loop for the whole pass (over half a second for 2,000 reports)
        // and the uploads under way could not go on meanwhile.
        if (performance.now() - yielded > 5) {
          queueReady();
          await new Promise((r) => setImmediate(r));
          yielded = performance.now();
        }
        const v = versionOf(file);
        if (!v) continue;
        if (!p.v || v.size !== p.v.size || v.mtimeMs !== p.v.mtimeMs) { next.set(file, { folder: p.folder, v }); continue; }
        // A large file is read and hashed with waits for I/O: queue those ready before it first.
        if (v.size > WHOLE_READ_MAX) queueReady();
        const r = await this.intake.prepare(file, v, p.folder.kind, true);
        if (r.result === 'ready') ready.push(r);
        else if (r.result === 'moved-on') next.set(file, { folder: p.folder, v: versionOf(file) });
        else tally(r, file);
      }
      queueReady();
      pending = next;
      lookedAt = performance.now();
    }
  }

  private async drain(maxAttempts: number): Promise<void> {
    for (;;) {
      if (this.jobs.pendingCount(maxAttempts) === 0 && this.queue.inFlight().length === 0) return;
      // Looks again when the runner has nothing in hand (the last job verified: the run ends at
      // once), else every 250 ms (retries that come due, a store that comes back).
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); this.queue.off('idle', done); resolve(); };
        const timer = setTimeout(done, 250);
        this.queue.once('idle', done);
      });
      this.queue.pump();
    }
  }

  status(): StatusSnapshot {
    const oldest = this.jobs.oldestWaiting();
    const next = this.jobs.nextRetryAt();
    const recent = [...this.jobs.recentErrors(20), ...this.reports.recent(20)].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 20);
    return {
      warnings: this.config.encryption.mode === 'sse-only'
        ? ['encryption.mode is "sse-only": records leave this workstation without client-side encryption'] : [],
      policy: this.config.policy ?? { path: null, locked: [] },
      counts: this.jobs.counts(),
      paused: this.queue.isPaused,
      storeReachable: this.queue.isOnline,
      watched: this.config.watch.map((w) => ({ path: w.path, kind: w.kind })),
      inFlight: this.queue.inFlight(),
      recentErrors: recent,
      incompleteFiles: this.reports.count(),
      oldestWaiting: oldest ? { file: oldest.sourcePath, since: new Date(oldest.createdAt).toISOString() } : null,
      nextRetryAt: next === null ? null : new Date(next).toISOString(),
    };
  }

  /** The records stored for one day, from the store itself (not from this workstation's queue). */
  async listDay(date: string): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    const seen = new Set<string>();
    for (const prefix of dayPrefixes(date, this.config.layout, this.config.store.prefix)) {
      for await (const o of this.store.list(prefix)) {
        if (seen.has(o.key)) continue;
        seen.add(o.key);
        const info = describeKey(o.key, this.config.layout, this.config.store.prefix);
        if (info && info.date !== date) continue;
        out.push({
          key: o.key, kind: info?.kind ?? 'unknown', size: o.size,
          uploadedAt: o.metadata?.[METADATA.uploadedAt] ?? o.lastModified.toISOString(),
        });
      }
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The handler table behind AppApi: what IPC binds and the e2e harness exposes. */
  readonly api: AppApi = {
    getStatus: async () => ok(this.status()),
    listDay: async ({ date }) => wrap(() => this.listDay(date)),
    pauseUploads: async () => { this.queue.pause(); return ok(this.status()); },
    resumeUploads: async () => { this.queue.resume(); return ok(this.status()); },
    listCalendar: (a) => this.browsing.api.listCalendar(a),
    openDay: (a) => this.browsing.api.openDay(a),
    searchRecords: (a) => this.browsing.api.searchRecords(a),
    previewRecord: (a) => this.browsing.api.previewRecord(a),
    saveRecord: (a) => this.browsing.api.saveRecord(a),
    shareRecord: (a) => this.browsing.api.shareRecord(a),
  };
}

/**
 * The desktop app's agent: settings from `dataDir/medrelay.json`, or the demo profile (folder
 * store, sample folders) when there are none yet.
 */
export function createAgent(opts: { dataDir: string; logDir: string; policyPath?: string }): Agent {
  const file = join(opts.dataDir, 'medrelay.json');
  const policyPath = opts.policyPath ?? defaultPolicyPath();
  if (!existsSync(file) && !existsSync(policyPath)) return new Agent(prepareDemo(join(opts.dataDir, 'demo')), { log: createLogger({ logDir: opts.logDir }) });
  // An invalid policy throws (PolicyError): the app refuses to upload rather than fall back.
  const { config, locked, policyPath: used } = loadEffectiveConfig(file, policyPath, { userConfigOptional: true, defaults: { dataDir: opts.dataDir } });
  return new Agent({ ...config, policy: { path: used, locked } }, { log: createLogger({ logDir: opts.logDir }) });
}

async function wrap<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await f());
  } catch (e) {
    if (e instanceof StoreError) return fail(e.code, e.message);
    return fail('internal', e instanceof Error ? e.message : String(e));
  }
}
