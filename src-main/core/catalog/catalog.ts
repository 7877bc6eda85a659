// Browsing the store by date: reads a day (listings of every template's day prefix plus the day's
// encrypted index objects, decrypted here; a pack stands in for the small objects it covers),
// keeps it in the catalog, and answers day pages, calendar and search from there. A day opened once re-opens from SQLite, offline too; a refresh
// reads only index objects it has not seen and drops what the store no longer holds.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import type { CalendarPage, CatalogRecord, DayPage, RecordSearch, SearchResult } from '../../../src-shared/api.js';
import { dayPrefixes, describeKey, type KeyLayout } from '../../../src-shared/keys.js';
import type { EncryptionConfig } from '../config/schema.js';
import type { Db } from '../db/open.js';
import { keptUnlessRejected } from '../kept.js';
import { toStoreError } from '../store/errors.js';
import { METADATA, StoreError, type ObjectInfo, type ObjectStore } from '../store/types.js';
import { calendarValues, datePatterns } from './calendar.js';
import { indexDayPrefix, indexFolderOf, indexKeyDate, indexRoot, PACK_SUFFIX, type IndexEntry } from './entry.js';
import { IndexFormatError, IndexOpener } from './index-crypto.js';
import { KeyReader, type KeyParts } from './key-parts.js';
import { mapLimit, readAll } from './pool.js';
import { groupRecords, recordIdOf } from './records.js';
import { CatalogRepository, type HeadResult, type ListedObject, type ReadIndexObject } from './repository.js';

export interface CatalogOptions {
  layout: KeyLayout;
  /** The store prefix (setting "store.prefix"). */
  prefix: string;
  encryption: EncryptionConfig;
  /** Every key this machine decrypts with (RecordReader.decryptKeys; not called when the mode is sse-only). */
  decryptKeys: () => Promise<KeyringNode | null>;
  /** GET and HEAD requests in flight while reading a day. Default 16. */
  concurrency?: number;
  /** Read the cleartext metadata (HEAD) of objects without an index entry. Default true. */
  headUnindexed?: boolean;
  /** At most this many such HEADs per refresh; later refreshes read more. Default 200. */
  headLimit?: number;
  now?: () => number;
}

/** What one refresh of a day did: for tests, the benchmark and logs. */
export interface RefreshStats {
  date: string;
  objects: number;
  indexObjects: number;
  indexObjectsRead: number;
  entriesRead: number;
  heads: number;
  removed: number;
  ms: number;
}

const INDEX_MAX_BYTES = 64 * 1024 * 1024;
export const MAX_SEARCH_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isOffline(e: unknown): e is StoreError {
  return e instanceof StoreError && e.code === 'network';
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export class Catalog {
  readonly repo: CatalogRepository;
  private readonly keys: KeyReader;
  private readonly partsCache = new Map<string, KeyParts | null>();
  /** Opens index objects with every key this machine has (built once; again after a failure). */
  private readonly indexOpener = keptUnlessRejected(async () => {
    const sseOnly = this.opts.encryption.mode === 'sse-only';
    return new IndexOpener(sseOnly ? null : await this.opts.decryptKeys(), sseOnly);
  });
  private readonly now: () => number;
  /** One refresh per day at a time: a second caller shares the first one's work. */
  private readonly refreshing = new Map<string, Promise<RefreshStats>>();

  constructor(db: Db, private readonly store: ObjectStore, private readonly opts: CatalogOptions) {
    this.repo = new CatalogRepository(db);
    this.keys = new KeyReader(opts.layout, opts.prefix);
    this.now = opts.now ?? Date.now;
  }

  private partsOf = (key: string): KeyParts | null => {
    let p = this.partsCache.get(key);
    if (p === undefined) {
      p = this.keys.read(key);
      if (this.partsCache.size > 100_000) this.partsCache.clear();
      this.partsCache.set(key, p);
    }
    return p;
  };

  /** Reads one day from the store into the catalog. */
  refreshDay(date: string): Promise<RefreshStats> {
    if (!DATE.test(date)) return Promise.reject(new StoreError('bad-input', `date "${date}" is not YYYY-MM-DD`, false));
    const running = this.refreshing.get(date);
    if (running) return running;
    const p = this.readDay(date).finally(() => this.refreshing.delete(date));
    this.refreshing.set(date, p);
    return p;
  }

  private async readDay(date: string): Promise<RefreshStats> {
    const started = performance.now();
    const { layout, prefix } = this.opts;
    const limit = this.opts.concurrency ?? 16;
    const idxRoot = indexRoot(prefix);
    const [lists, indexListing] = await Promise.all([
      Promise.all(dayPrefixes(date, layout, prefix).map((p) => collect(this.store.list(p)))),
      collect(this.store.list(indexDayPrefix(date, prefix))),
    ]);
    const objects: ListedObject[] = [];
    const seen = new Set<string>();
    for (const o of lists.flat()) {
      if (seen.has(o.key) || o.key.startsWith(idxRoot)) continue;
      seen.add(o.key);
      const info = describeKey(o.key, layout, prefix);
      if (info && info.date !== date) continue;
      objects.push({ key: o.key, kind: info?.kind ?? 'unknown', storedSize: o.size, lastModified: o.lastModified.getTime() });
    }
    const indexListed = new Set(indexListing.map((o) => o.key).filter((k) => indexKeyDate(k, prefix) === date));
    const known = this.repo.indexKeys(date);
    const toRead = [...indexListed].filter((k) => !known.has(k));
    const opener = toRead.length ? await this.indexOpener() : null;
    // Packs first: the small objects a pack covers (same workstation, same day) are not fetched.
    const packs = await mapLimit(toRead.filter((k) => k.endsWith(PACK_SUFFIX)), limit, (key) => this.readIndexObject(key, date, opener!));
    const covered = new Set(packs.flatMap((p) => p.covers.filter((c) => indexFolderOf(c) === indexFolderOf(p.key) && indexListed.has(c) && !known.has(c))));
    const rest = toRead.filter((k) => !k.endsWith(PACK_SUFFIX) && !covered.has(k));
    const indexRead: ReadIndexObject[] = [
      ...packs, ...await mapLimit(rest, limit, (key) => this.readIndexObject(key, date, opener!)),
      ...[...covered].map((key) => ({ key, entries: [], problem: null })),
    ];
    const withEntry = this.repo.entryKeys(date);
    for (const ix of indexRead) for (const e of ix.entries) withEntry.add(e.key);
    const heads = new Map<string, HeadResult>();
    if (this.opts.headUnindexed ?? true) {
      const headed = this.repo.headedKeys(date);
      // A bucket filled by other tools has no index at all: read a bounded number per refresh, so
      // opening such a day stays a listing (records show by key and listing time meanwhile).
      const unknown = objects.filter((o) => !withEntry.has(o.key) && !headed.has(o.key)).slice(0, this.opts.headLimit ?? 200);
      await mapLimit(unknown, limit, async (o) => {
        const h = await this.store.head(o.key).catch((e: unknown) => { throw toStoreError(e, `reading the metadata of ${o.key}`); });
        const m = h?.metadata ?? {};
        heads.set(o.key, { workstation: m[METADATA.workstation] ?? null, uploadedAt: m[METADATA.uploadedAt] ?? null, format: m[METADATA.format] ?? null });
      });
    }
    const removed = [...this.repo.objectKeys(date)].filter((k) => !seen.has(k)).length;
    this.repo.replaceDay(date, this.now(), {
      objects, indexListed, indexRead, heads,
      recordIdOf: (o, entry) => recordIdOf(o.key, date, this.partsOf(o.key), entry),
    });
    return {
      date, objects: objects.length, indexObjects: indexListed.size, indexObjectsRead: packs.length + rest.length,
      entriesRead: indexRead.reduce((n, ix) => n + ix.entries.length, 0), heads: heads.size,
      removed, ms: Math.round(performance.now() - started),
    };
  }

  private async readIndexObject(key: string, date: string, opener: IndexOpener): Promise<ReadIndexObject & { covers: string[] }> {
    const { body, info } = await this.store.get(key);
    try {
      const bytes = await readAll(body, INDEX_MAX_BYTES, key);
      const doc = await opener.open(bytes, info.metadata?.[METADATA.format] ?? 'esdk2', `index object ${key}`);
      // An entry counts only for the day its object is filed under.
      return { key, entries: doc.entries.filter((e: IndexEntry) => e.date === date), problem: null, covers: doc.covers ?? [] };
    } catch (e) {
      if (e instanceof IndexFormatError || e instanceof RangeError) return { key, entries: [], problem: e.message, covers: [] };
      throw toStoreError(e, `reading index object ${key}`);
    }
  }

  /** A page of a day's records: from the catalog when it has the day (unless `refresh`), else from the store. */
  async openDay(date: string, opts: { refresh?: boolean; offset?: number; limit?: number } = {}): Promise<DayPage> {
    let offline: string | null = null;
    let source: DayPage['source'] = 'catalog';
    if (opts.refresh || this.repo.refreshedAt(date) === null) {
      try {
        await this.refreshDay(date);
        source = 'store';
      } catch (e) {
        if (!isOffline(e) || this.repo.refreshedAt(date) === null) throw e;
        offline = e.message;
      }
    }
    const records = this.dayRecords(date);
    const offset = Math.max(0, opts.offset ?? 0);
    const limit = Math.max(1, opts.limit ?? 500);
    const refreshedAt = this.repo.refreshedAt(date);
    return {
      date, records: records.slice(offset, offset + limit), offset, total: records.length,
      files: records.reduce((n, r) => n + r.files.length, 0),
      refreshedAt: refreshedAt === null ? null : new Date(refreshedAt).toISOString(), source, offline,
      unreadableIndex: this.repo.unreadableIndex(date),
    };
  }

  /** Every record of a day as the catalog holds it (no store access). */
  dayRecords(date: string): CatalogRecord[] {
    return groupRecords(this.repo.rowsOf(date), this.partsOf);
  }

  /** Years, months or days holding records; from the catalog's days when the store cannot be reached. */
  async calendar(under: string | null = null): Promise<CalendarPage> {
    if (under !== null && !/^\d{4}(-\d{2})?$/.test(under)) throw new StoreError('bad-input', `"${under}" is not YYYY or YYYY-MM`, false);
    try {
      return { under, values: await calendarValues(this.store, datePatterns(this.opts.layout, this.opts.prefix), under), offline: null };
    } catch (e) {
      const err = toStoreError(e, `listing ${this.store.location}`);
      if (!isOffline(err)) throw err;
      const from = under === null ? '0000-00-00' : under.length === 4 ? `${under}-01-01` : `${under}-01`;
      const to = under === null ? '9999-99-99' : under.length === 4 ? `${under}-12-31` : `${under}-31`;
      const width = under === null ? 4 : under.length === 4 ? 7 : 10;
      const values = [...new Set(this.repo.cachedDays(from, to).map((d) => d.slice(0, width)))];
      return { under, values, offline: err.message };
    }
  }

  /** Days in [from, to] that hold records, by delimiter listings of each month. */
  async daysWithRecords(from: string, to: string): Promise<string[]> {
    const months = new Set<string>();
    for (let d = from; d <= to; d = addDays(d, 1)) months.add(d.slice(0, 7));
    const days = await mapLimit([...months], 4, (m) => this.calendar(m).then((p) => {
      if (p.offline) throw new StoreError('network', p.offline, true);
      return p.values;
    }));
    return days.flat().filter((d) => d >= from && d <= to);
  }

  /**
   * Records in a date range matching a patient (ID or name words), kind or modality, from the
   * catalog. `load`: `missing` (default) first reads the days with records that the catalog has
   * never seen; `all` re-reads every such day; `none` uses the catalog as it is.
   */
  async search(q: RecordSearch, load: 'missing' | 'all' | 'none' = 'missing'): Promise<SearchResult> {
    if (!DATE.test(q.from) || !DATE.test(q.to) || q.from > q.to) {
      throw new StoreError('bad-input', `the search range ${q.from} … ${q.to} must be two dates YYYY-MM-DD, the first not after the second`, false);
    }
    if (addDays(q.from, MAX_SEARCH_DAYS - 1) < q.to) throw new StoreError('bad-input', `the search range ${q.from} … ${q.to} is longer than ${MAX_SEARCH_DAYS} days`, false);
    const daysMissing: string[] = [];
    if (load !== 'none') {
      let days: string[] = [];
      try {
        days = await this.daysWithRecords(q.from, q.to);
      } catch (e) {
        if (!isOffline(e)) throw e;
      }
      const todo = load === 'all' ? days : days.filter((d) => this.repo.refreshedAt(d) === null);
      await mapLimit(todo, 2, async (d) => {
        try {
          await this.refreshDay(d);
        } catch (e) {
          if (!isOffline(e)) throw e;
          if (this.repo.refreshedAt(d) === null) daysMissing.push(d);
        }
      });
    }
    const limit = Math.min(Math.max(1, q.limit ?? 500), 10_000);
    const found = this.repo.findRecords({ from: q.from, to: q.to, patient: q.patient, kind: q.kind, modality: q.modality, limit: limit + 1 });
    const records = groupRecords(this.repo.rowsOfRecords(found.slice(0, limit)), this.partsOf);
    return { records, truncated: found.length > limit, daysMissing: daysMissing.sort() };
  }
}
