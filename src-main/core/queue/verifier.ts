// Verifies committed uploads before they count as delivered: after the commit, the object's size
// and the ETag the store reports are read back from the store and must be those of our write;
// only then is the job `done` (docs/reliability.md, guarantee 5). Committed jobs wait here, off
// the upload slots, and are checked in rounds: jobs whose keys share a folder with ListObjectsV2
// pages over their keys (usually one), when there are enough of them for a listing to pay; others
// (or a key the listing does not show, or a store without listings) with a HEAD, which also reads
// the job's name. A round writes `done` for what it verified in one transaction, and `committed`
// is written for all the jobs committed within RECORD_AFTER_MS in one transaction too: one write per
// upload cost a backlog of small records about a tenth of a millisecond each. Until then the row
// says `uploading`, which a restart treats the same way (the upload is sent again, answered 412,
// and recognised as this job's own by its name).
import type { JobEvent } from '../../../src-shared/api.js';
import { toStoreError } from '../store/errors.js';
import { METADATA, StoreError, type ObjectInfo, type ObjectStore, type PutResult } from '../store/types.js';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import type { Job, JobRepository } from './jobs.js';
import type { DayIndex } from './runner.js';

/** A job whose object is committed, with what the store answered the write. */
export interface Committed {
  job: Job;
  /** `<workstation>/<job id>`, the object's METADATA.job. */
  token: string;
  storedSize: number;
  written: PutResult;
  /** Removes the job's spooled ciphertext; called once the job is done. */
  discard: () => Promise<void>;
}

export interface VerifierOptions extends BackoffPolicy {
  /** Committed jobs that may wait here; the runner claims no upload beyond it. */
  maxWaiting: number;
  /** How long a round waits for more commits while uploads are in flight. */
  lingerMs: number;
  /**
   * How long it waits instead while a backlog streams in (from the backlog's second round on, see
   * Verifier.lingerLeft), so that more commits are checked with each listing page.
   */
  backlogLingerMs: number;
  /** Requests in flight at once within a round. */
  requests: number;
  /** Uploads in flight that will commit soon: a round may wait a little for them. */
  moreComing(): boolean;
  /** Whether the store is thought reachable; rounds wait while it is not. */
  online(): boolean;
  /** A request got no answer at all: the runner stops uploads and probes. */
  lost(): void;
  /** The job is not verified: the runner's retry and parking rules decide what happens next. */
  failed(c: Committed, err: StoreError): void;
  publish(job: Job, state: JobEvent['state'], extra?: Partial<JobEvent>): void;
  /** A round ended: there may be room for more uploads. */
  settled(): void;
  index?: DayIndex | undefined;
  now: () => number;
  random?: (() => number) | undefined;
  log?: ((message: string) => void) | undefined;
}

interface Waiting {
  c: Committed;
  since: number;
  /** Rounds in which the store did not answer about this job. */
  tries: number;
  /** Whether the job's row says `committed` yet (see recordCommits). */
  recorded: boolean;
}

/** How long a commit waits before it is written to the database, with the others meanwhile. */
export const RECORD_AFTER_MS = 100;

/** Rounds in which the store gave no answer before the job goes back to the queue (and is re-sent). */
const MAX_TRIES = 3;

/**
 * Keys of ours a listing page must verify to cost less than their HEADs. Measured on Ceph RGW
 * here: a ListObjectsV2 page costs the server 5-7 ms of CPU plus about 10 µs a key, and the client
 * about 3 ms plus 17 µs a key through the SDK (pages now go outside it, store/s3-direct.ts: 2.1 ms
 * for 250 keys against 6.5); a HEAD costs each about 1 ms. AWS bills a LIST as 12.5 HEADs.
 */
const LISTING_PAYS_FROM = 8;

/**
 * Keys a page may bring per key of ours it verifies and still pay for itself (by the figures above,
 * a key costs the two sides about 1/75 of a HEAD). Keys between ours are others' objects, or ours
 * verified in earlier rounds: a backlog in several folders is sent folder by folder while its keys
 * sort by date and time, so a round's keys are spread over all that was sent before them.
 */
const KEYS_PER_VERIFIED = 64;

/** S3 lists keys in UTF-8 byte order, which JavaScript's string order is not beyond the BMP. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The folder of a key, with its trailing slash: what the listing's Prefix is. */
function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

function sameEtag(a: string, b: string): boolean {
  const bare = (t: string) => t.replace(/^W\//, '').replace(/^"|"$/g, '');
  return bare(a) === bare(b);
}

function uploadAgain(key: string, what: string): StoreError {
  return new StoreError('network', `${key} ${what} after the upload; uploading again`, true);
}

/** Runs `f` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => { while (next < items.length) await f(items[next++]!); };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class Verifier {
  private waiting: Waiting[] = [];
  private recordTimer: NodeJS.Timeout | null = null;
  private inRound = 0;
  private round: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private holdUntil = 0;
  private failures = 0;
  private stopping = false;
  private stopped = false;
  /** Set when the store refused a listing for good (no s3:ListBucket, no V2 listings): HEAD only. */
  private listingOff = false;
  /** Whether the last round was cut by the wait with many commits and uploads still going: a backlog streams in. */
  private streaming = false;

  constructor(private readonly jobs: JobRepository, private readonly store: ObjectStore, private readonly opts: VerifierOptions) {}

  /** Committed jobs not yet verified (waiting or in the round under way). */
  get size(): number {
    return this.waiting.length + this.inRound;
  }

  /** Takes a committed job; `nudge()` then lets a round start (the runner first claims new uploads). */
  add(c: Committed): void {
    if (this.stopped) return this.park(c);
    this.waiting.push({ c, since: performance.now(), tries: 0, recorded: false });
    if (!this.recordTimer) {
      this.recordTimer = setTimeout(() => this.recordCommits(), RECORD_AFTER_MS);
      this.recordTimer.unref();
    }
  }

  /**
   * Writes `committed` (and the stored size) for every waiting job whose row does not say so yet,
   * in one transaction; a job whose row refuses it (moved on meanwhile) leaves the verifier through
   * the runner's failure rules. Jobs in a round were all recorded when it started.
   */
  private recordCommits(): void {
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = null;
    const commits = this.waiting.filter((w) => !w.recorded);
    if (commits.length === 0) return;
    const write = (w: Waiting) => {
      this.jobs.setState(w.c.job.id, 'committed', { storedSize: w.c.storedSize });
      w.recorded = true;
    };
    try {
      this.jobs.transaction(() => commits.forEach(write));
    } catch {
      for (const w of commits) {
        try {
          write(w);
        } catch (e) {
          this.waiting = this.waiting.filter((x) => x !== w);
          this.opts.failed(w.c, toStoreError(e, `recording the upload of ${w.c.job.objectKey}`));
        }
      }
    }
  }

  /** Something changed (a commit, an upload ended, the store came back): a round may start now. */
  nudge(): void {
    this.schedule();
  }

  /**
   * Verifies what waits until `deadline`, then finishes the round under way and parks the rest as
   * queued (a restart re-sends them, finds its own objects and verifies them).
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.schedule();
    while ((this.waiting.length > 0 || this.round) && Date.now() < deadline && this.opts.online()) {
      const tick = new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, deadline - Date.now()))));
      await Promise.race([this.round ?? tick, tick]);
      this.schedule();
    }
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
    for (const w of this.waiting.splice(0)) this.park(w.c);
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = null;
  }

  private park(c: Committed): void {
    // From `uploading` or `committed` alike.
    this.jobs.setState(c.job.id, 'queued', { code: 'network', message: 'parked when MedRelay stopped before the upload was verified' });
    this.opts.publish(c.job, 'queued');
  }

  private schedule(): void {
    if (this.round || this.stopped || this.waiting.length === 0 || !this.opts.online()) return;
    const now = performance.now();
    const wait = Math.max(this.holdUntil - now, this.lingerLeft(now));
    if (wait <= 0) return this.startRound();
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.schedule(); }, wait);
    this.timer.unref();
  }

  /**
   * How much longer the round may wait for commits. None when nothing more is coming, when
   * stopping, or when half the bound waits. Otherwise `lingerMs`, and `backlogLingerMs` while a
   * backlog streams in (the last round was cut by the wait with LISTING_PAYS_FROM commits or more,
   * and so is this one), since every round lists its folder: a backlog of 200 KB reports verified
   * every 200 ms took about 60 listing pages per 2,000 records, each costing the store 5-7 ms of
   * CPU, against about 15 at a second. The first round of a backlog keeps the short wait, so the
   * first records of a restart are done as soon as before; so do a few records committed during a
   * long upload.
   */
  private lingerLeft(now: number): number {
    if (this.stopping || this.waiting.length >= this.opts.maxWaiting / 2 || !this.opts.moreComing()) return 0;
    const backlog = this.streaming && this.waiting.length >= LISTING_PAYS_FROM;
    return this.waiting[0]!.since + (backlog ? Math.max(this.opts.lingerMs, this.opts.backlogLingerMs) : this.opts.lingerMs) - now;
  }

  private startRound(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // `done` is written from `committed` only.
    this.recordCommits();
    this.streaming = this.waiting.length >= LISTING_PAYS_FROM && this.opts.moreComing() && !this.stopping;
    const batch = this.waiting.splice(0);
    this.inRound = batch.length;
    this.round = this.verifyRound(batch).catch((e: unknown) => {
      this.opts.log?.(`verification round failed: ${(e as Error).message}`);
    }).finally(() => {
      this.round = null;
      this.inRound = 0;
      this.opts.settled();
      this.schedule();
    });
  }

  private async verifyRound(batch: Waiting[]): Promise<void> {
    const verdicts = new Map<Waiting, StoreError | null>();
    const noAnswer = new Map<Waiting, StoreError>();
    const byHead: Waiting[] = [];
    const byFolder = new Map<string, Waiting[]>();
    for (const w of batch) {
      const { written } = w.c;
      // Found to be ours by the write's own owner check: the store has just described it.
      if (written.found) verdicts.set(w, this.checkHead(w.c, written.found));
      else if (written.outcome === 'written' && written.etag && this.store.listPage && !this.listingOff) {
        const folder = folderOf(w.c.job.objectKey);
        byFolder.set(folder, [...(byFolder.get(folder) ?? []), w]);
      } else byHead.push(w);
    }
    const groups: Waiting[][] = [];
    for (const g of byFolder.values()) {
      if (g.length >= LISTING_PAYS_FROM) groups.push(g);
      else byHead.push(...g);
    }
    try {
      await eachLimited(groups, this.opts.requests, async (g) => {
        try {
          byHead.push(...await this.byListing(g, verdicts));
        } catch (e) {
          const err = toStoreError(e, `listing ${folderOf(g[0]!.c.job.objectKey)} to verify ${g.length} uploads`);
          // Pages before the failure may have judged some already.
          const open = g.filter((w) => !verdicts.has(w));
          if (err.retryable && err.code === 'network') {
            for (const w of open) noAnswer.set(w, err);
            return;
          }
          // Refused for good (permissions, an old store): verify with HEAD from now on.
          if (!this.listingOff) this.opts.log?.(`${err.message}; verifying uploads with HEAD requests from now on`);
          this.listingOff = true;
          byHead.push(...open);
        }
      });
      await eachLimited(byHead, this.opts.requests, async (w) => {
        try {
          verdicts.set(w, this.checkHead(w.c, await this.store.head(w.c.job.objectKey)));
        } catch (e) {
          const err = toStoreError(e, `checking ${w.c.job.objectKey} after its upload`);
          if (err.retryable && err.code === 'network') noAnswer.set(w, err);
          else verdicts.set(w, err);
        }
      });
    } finally {
      // Whatever happened, every job of the round leaves it with a verdict or waits again.
      await this.settle(batch, verdicts, noAnswer);
    }
  }

  /**
   * Lists the group's keys page by page and judges each one found; returns the jobs left to check
   * with HEAD. Each page starts just before our smallest key not yet seen, so keys of others
   * between ours (or ours verified in an earlier round) are skipped, not read, and asks for at most
   * four keys per key of ours left. A page that verifies fewer than LISTING_PAYS_FROM of ours, or
   * fewer than one in KEYS_PER_VERIFIED of the keys it brings, is a miss; after a second miss, or
   * with too few of ours left to pay for a page, the rest go by HEAD.
   */
  private async byListing(group: Waiting[], verdicts: Map<Waiting, StoreError | null>): Promise<Waiting[]> {
    const left = [...group].sort((a, b) => compareKeys(a.c.job.objectKey, b.c.job.objectKey));
    const folder = folderOf(left[0]!.c.job.objectKey);
    const byHead: Waiting[] = [];
    let misses = 0;
    while (left.length >= LISTING_PAYS_FROM && misses < 2) {
      // The key without its last character sorts just before it.
      const after = [...left[0]!.c.job.objectKey].slice(0, -1).join('');
      const page = await this.store.listPage!(folder, after, Math.min(1000, 4 * left.length + 32));
      const shown = new Map(page.objects.map((o) => [o.key, o]));
      const end = page.objects.at(-1)?.key;
      let verified = 0;
      // Ours up to the page's last key are judged now: by the listing, or by HEAD when it did not show them.
      while (left.length > 0 && (!page.truncated || end === undefined || compareKeys(left[0]!.c.job.objectKey, end) <= 0)) {
        const w = left.shift()!;
        const o = shown.get(w.c.job.objectKey);
        if (o?.etag) {
          verdicts.set(w, this.checkListed(w.c, o));
          verified++;
        } else byHead.push(w);
      }
      if (verified < Math.max(LISTING_PAYS_FROM, page.objects.length / KEYS_PER_VERIFIED)) misses++;
    }
    return [...byHead, ...left];
  }

  private checkListed(c: Committed, o: ObjectInfo): StoreError | null {
    if (o.size !== c.storedSize) return uploadAgain(c.job.objectKey, `holds ${o.size} bytes, expected ${c.storedSize},`);
    if (!sameEtag(o.etag!, c.written.etag!)) return uploadAgain(c.job.objectKey, `has ETag ${o.etag}, not the ${c.written.etag} of our write,`);
    return null;
  }

  /** The object as HEAD (or the write's owner check) saw it: there, named after this job, our size and ETag. */
  private checkHead(c: Committed, info: ObjectInfo | null): StoreError | null {
    const { job, token, storedSize, written } = c;
    if (!info) return new StoreError('network', `${job.objectKey} was committed but is not visible yet`, true);
    const theirs = info.metadata?.[METADATA.job];
    if (theirs !== undefined && theirs !== token) {
      return new StoreError('conflict', `${job.objectKey} in the store was written by ${theirs}, not by this upload of ${job.sourcePath}`, false);
    }
    // An earlier attempt of this job wrote the object: other ciphertext, maybe another size.
    if (written.outcome !== 'written') return null;
    if (info.size !== storedSize) return uploadAgain(job.objectKey, `holds ${info.size} bytes, expected ${storedSize},`);
    if (written.etag && info.etag && !sameEtag(info.etag, written.etag)) {
      return uploadAgain(job.objectKey, `has ETag ${info.etag}, not the ${written.etag} of our write,`);
    }
    return null;
  }

  /** Writes the round's verdicts: done for the verified, the runner's rules for the others. */
  private async settle(batch: Waiting[], verdicts: Map<Waiting, StoreError | null>, noAnswer: Map<Waiting, StoreError>): Promise<void> {
    const verified = batch.filter((w) => verdicts.get(w) === null);
    await this.finish(verified.map((w) => w.c));
    for (const w of batch) {
      const err = verdicts.get(w);
      if (err) this.opts.failed(w.c, err);
    }
    const unanswered = batch.filter((w) => !verdicts.has(w));
    if (unanswered.length === 0) {
      this.failures = 0;
      return;
    }
    // No answer about these: they wait for another round, after a backoff (or the store's return).
    this.failures++;
    let lost = false;
    let atLeast = 0;
    for (const w of unanswered) {
      const err = noAnswer.get(w) ?? new StoreError('internal', `${w.c.job.objectKey} could not be checked after its upload`, true);
      lost ||= err.condition === 'unreachable';
      atLeast = Math.max(atLeast, err.retryAfterMs ?? 0);
      // While stopping, they wait too: stop() parks them once this round is over.
      if (++w.tries >= MAX_TRIES && !this.stopped) this.opts.failed(w.c, err);
      else this.waiting.push(w);
    }
    this.holdUntil = performance.now() + retryDelayMs(this.failures, this.opts, this.opts.random, atLeast);
    if (lost) this.opts.lost();
  }

  /** `done` with the upload time and the day-index entry, for all verified jobs in one transaction. */
  private async finish(verified: Committed[]): Promise<void> {
    if (verified.length === 0) return;
    const uploadedAt = this.opts.now();
    const index = this.opts.index;
    // Read before the transaction (it opens the file); a record whose fields cannot be read still
    // counts as delivered, and browsing shows it from its key and metadata.
    const entries = await Promise.all(verified.map((c) => index?.entryFor({ ...c.job, uploadedAt }).catch((e: unknown) => {
      this.opts.log?.(`day index entry for ${c.job.sourcePath} not written: ${(e as Error).message}`);
      return null;
    }) ?? null));
    const write = (c: Committed, i: number) => {
      this.jobs.setState(c.job.id, 'done', { uploadedAt });
      const entry = entries[i];
      if (entry) index!.enqueue(entry);
    };
    let done = verified;
    try {
      this.jobs.transaction(() => verified.forEach(write));
    } catch {
      // One job refused the change: write the others one by one, and hand that one back.
      done = verified.filter((c, i) => {
        try {
          this.jobs.transaction(() => write(c, i));
          return true;
        } catch (e) {
          this.opts.failed(c, toStoreError(e, `marking ${c.job.objectKey} delivered`));
          return false;
        }
      });
    }
    for (const c of done) this.opts.publish(c.job, 'done', { sent: c.job.size });
    await Promise.all(done.map((c) => c.discard().catch(() => {})));
  }
}
