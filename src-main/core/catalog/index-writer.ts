// Writes the encrypted day index: after a file is delivered, its entry goes into an outbox table
// in SQLite (durable, cheap, can share the transaction that marks the job delivered); a flush seals
// the pending entries of each day into one new index object. Under load one object carries many
// entries; a trickle gives one per file, so every `packAfter` small objects of a day are repeated
// in one pack, and a reader fetches the pack instead (see assignPacks).
// An object's key is fixed before its first attempt and names its batch in `medrelay-job`, so a
// retry after an unclear failure is recognised by the store as the same write, never a duplicate.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import { basename, dirname } from 'node:path';
import { PACKAGE_NAME, type RecordKind } from '../../../src-shared/keys.js';
import type { Db } from '../db/open.js';
import { statement } from '../db/statements.js';
import { toStoreError } from '../store/errors.js';
import { METADATA, type ObjectStore } from '../store/types.js';
import { INDEX_KIND, indexEntrySchema, newIndexKey, type IndexDocument, type IndexEntry } from './entry.js';
import { recordFields } from './fields.js';
import { IndexSealer } from './index-crypto.js';
import { mapLimit } from './pool.js';

/** What the queue knows about a delivered file (a subset of its Job). */
export interface DeliveredFile {
  objectKey: string;
  kind: RecordKind;
  recordDate: string;
  sourcePath: string;
  size: number;
  sha256: string;
  contentType: string;
  /** When the store accepted it (epoch ms); now when absent. */
  uploadedAt?: number | null;
}

/** The keys index objects are sealed for (the runner's encryption); null in sse-only mode. */
export type IndexEncryption = { keyring: KeyringNode; keyIds: string[] } | null;

export interface IndexWriterOptions {
  workstationId: string;
  /** The store prefix (setting "store.prefix"). */
  prefix: string;
  /** How long a new entry waits for others to share its object. Default 1000 ms. */
  batchDelayMs?: number;
  /** Entries per index object at most. Default 500 (about 300 KB). */
  maxEntries?: number;
  /** Small index objects of one day after which their entries are packed into one object. Default 64. */
  packAfter?: number;
  /** Index objects written at once when entries have piled up (after a time offline). Default 4. */
  concurrency?: number;
  /** First retry delay after a failed write; doubles up to 5 minutes. Default 2000 ms. */
  retryBaseMs?: number;
  now?: () => number;
  log?: (message: string) => void;
}

/** An index object with fewer entries than this is small: its entries wait to be packed. */
const PACK_SMALL = 32;
/** Small objects one pack covers at most (a pack holds under 256 × 32 entries, about 5 MB). */
const PACK_MAX_COVERS = 256;

interface OutboxRow {
  id: number;
  date: string;
  entry: string;
  batch_key: string | null;
}

export class IndexWriter {
  private sealer: IndexSealer | null = null;
  private keyIds: string[] = [];
  private started = false;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private readonly now: () => number;

  private sql(text: string) {
    return statement(this.db, text);
  }

  constructor(private readonly db: Db, private readonly store: ObjectStore, private readonly opts: IndexWriterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts writing with the same encryption as the uploads; entries already waiting go out soon. */
  start(encryption: IndexEncryption): void {
    this.sealer = encryption ? new IndexSealer(encryption.keyring, this.opts.workstationId) : null;
    this.keyIds = encryption?.keyIds ?? [];
    this.started = true;
    if (this.pending() > 0) this.schedule(0);
  }

  /** The entry for a delivered file: what the queue knows plus the patient fields read from the file. */
  async entryFor(file: DeliveredFile): Promise<IndexEntry> {
    const fields = await recordFields(file.sourcePath, file.kind, file.contentType);
    const folder = basename(dirname(file.sourcePath));
    const pkg = file.kind === 'ecg-package' && PACKAGE_NAME.test(folder) ? folder : undefined;
    return indexEntrySchema.parse({
      key: file.objectKey, kind: file.kind, date: file.recordDate, fileName: basename(file.sourcePath),
      size: file.size, sha256: file.sha256, contentType: file.contentType,
      uploadedAt: new Date(file.uploadedAt ?? this.now()).toISOString(), workstation: this.opts.workstationId,
      ...fields, ...(pkg ? { packageName: pkg } : {}),
    });
  }

  /** Puts an entry in the outbox (synchronous, so it can share the caller's transaction). */
  enqueue(entry: IndexEntry): void {
    this.sql('INSERT INTO index_outbox (date, entry, created_at) VALUES (?, ?, ?)').run(entry.date, JSON.stringify(entry), this.now());
    if (!this.started) return;
    if (this.pending() >= (this.opts.maxEntries ?? 500)) this.schedule(0);
    else if (!this.timer) this.schedule(this.opts.batchDelayMs ?? 1000);
  }

  /** entryFor + enqueue: the one call the queue makes once a job's object is committed. */
  async recordDelivered(file: DeliveredFile): Promise<void> {
    this.enqueue(await this.entryFor(file));
  }

  /** Entries not yet in the store. */
  pending(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM index_outbox WHERE sent_at IS NULL').get() as { n: number }).n;
  }

  /** Writes every waiting entry now, then packs; returns how many index objects were written. Throws StoreErrors. */
  flush(): Promise<number> {
    if (!this.started) return Promise.resolve(0);
    // One flush at a time; a caller arriving during one waits for it and then flushes what is left.
    const run = async (): Promise<number> => {
      const limit = this.opts.concurrency ?? 4;
      const batches = this.assignBatches();
      await mapLimit(batches, limit, (key) => this.writeBatch(key));
      const packs = this.assignPacks();
      await mapLimit(packs, limit, (key) => this.writePack(key));
      // Small objects of a day that never gathered enough to pack: readers fetch them one by one.
      this.sql('DELETE FROM index_outbox WHERE pack_key IS NULL AND sent_at < ?').run(this.now() - 36 * 3600_000);
      return batches.length + packs.length;
    };
    const next = (this.flushing ?? Promise.resolve()).then(run);
    const settled = next.then(() => undefined, () => undefined);
    this.flushing = settled;
    void settled.then(() => { if (this.flushing === settled) this.flushing = null; });
    return next;
  }

  /** Writes what is waiting (one attempt) and stops the timer; unwritten entries stay for next time. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } catch (e) {
      this.opts.log?.(`index entries stay queued for the next start: ${(e as Error).message}`);
    }
    this.started = false;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().then(() => {
        this.failures = 0;
      }, (e: unknown) => {
        this.failures++;
        const err = toStoreError(e, 'writing the day index');
        const delay = Math.min(300_000, (this.opts.retryBaseMs ?? 2000) * 2 ** Math.min(this.failures - 1, 10));
        this.opts.log?.(`${err.message}; trying again in ${Math.round(delay / 1000)} s`);
        if (this.started) this.schedule(delay);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Gives every waiting entry its index object key (per day, at most maxEntries each); returns the unsent keys. */
  private assignBatches(): string[] {
    const max = this.opts.maxEntries ?? 500;
    return this.db.transaction(() => {
      const loose = this.sql('SELECT id, date FROM index_outbox WHERE batch_key IS NULL ORDER BY date, id').all() as { id: number; date: string }[];
      const set = this.sql('UPDATE index_outbox SET batch_key = ? WHERE id = ?');
      let key = '';
      let date = '';
      let count = 0;
      for (const row of loose) {
        if (row.date !== date || count >= max) {
          date = row.date;
          count = 0;
          key = newIndexKey(row.date, this.opts.workstationId, this.opts.prefix, this.now());
        }
        set.run(key, row.id);
        count++;
      }
      return (this.sql('SELECT DISTINCT batch_key AS k FROM index_outbox WHERE batch_key IS NOT NULL AND sent_at IS NULL ORDER BY batch_key').all() as { k: string }[]).map((r) => r.k);
    })();
  }

  /**
   * Once a day has `packAfter` small index objects from this workstation, their entries are
   * written again as one pack that names them (`covers`); a reader then fetches the pack instead
   * of each of them. Each entry is stored twice at most. Returns the unwritten pack keys.
   */
  private assignPacks(): string[] {
    const after = this.opts.packAfter ?? 64;
    return this.db.transaction(() => {
      const days = this.sql('SELECT DISTINCT date FROM index_outbox WHERE sent_at IS NOT NULL AND pack_key IS NULL').all() as { date: string }[];
      const set = this.sql('UPDATE index_outbox SET pack_key = ? WHERE batch_key = ? AND pack_key IS NULL');
      for (const { date } of days) {
        const small = (this.sql('SELECT DISTINCT batch_key AS k FROM index_outbox WHERE date = ? AND sent_at IS NOT NULL AND pack_key IS NULL ORDER BY batch_key')
          .all(date) as { k: string }[]).map((r) => r.k);
        for (let i = 0; small.length - i >= after; i += PACK_MAX_COVERS) {
          const pack = newIndexKey(date, this.opts.workstationId, this.opts.prefix, this.now(), true);
          for (const k of small.slice(i, i + PACK_MAX_COVERS)) set.run(pack, k);
        }
      }
      return (this.sql('SELECT DISTINCT pack_key AS k FROM index_outbox WHERE pack_key IS NOT NULL ORDER BY pack_key').all() as { k: string }[]).map((r) => r.k);
    })();
  }

  private async writeBatch(key: string): Promise<void> {
    const rows = this.sql('SELECT id, date, entry, batch_key FROM index_outbox WHERE batch_key = ? AND sent_at IS NULL ORDER BY id').all(key) as OutboxRow[];
    if (rows.length === 0) return;
    await this.putIndex(key, { medrelayIndex: 1, date: rows[0]!.date, workstation: this.opts.workstationId, entries: rows.map((r) => JSON.parse(r.entry) as IndexEntry) });
    // Entries of a small object wait to be packed; a big object is read in one request anyway.
    if (rows.length < PACK_SMALL) this.sql('UPDATE index_outbox SET sent_at = ? WHERE batch_key = ?').run(this.now(), key);
    else this.sql('DELETE FROM index_outbox WHERE batch_key = ?').run(key);
  }

  private async writePack(key: string): Promise<void> {
    const rows = this.sql('SELECT id, date, entry, batch_key FROM index_outbox WHERE pack_key = ? ORDER BY batch_key, id').all(key) as OutboxRow[];
    if (rows.length === 0) return;
    await this.putIndex(key, {
      medrelayIndex: 1, date: rows[0]!.date, workstation: this.opts.workstationId,
      entries: rows.map((r) => JSON.parse(r.entry) as IndexEntry), covers: [...new Set(rows.map((r) => r.batch_key!))],
    });
    this.sql('DELETE FROM index_outbox WHERE pack_key = ?').run(key);
  }

  private async putIndex(key: string, doc: IndexDocument): Promise<void> {
    const body = this.sealer ? await this.sealer.seal(doc) : Buffer.from(JSON.stringify(doc), 'utf8');
    await this.store.put({
      key, data: { buffer: body }, source: `the day index of ${doc.date} (${doc.entries.length} entries)`,
      contentType: this.sealer ? 'application/octet-stream' : 'application/json',
      metadata: {
        [METADATA.kind]: INDEX_KIND,
        [METADATA.workstation]: this.opts.workstationId,
        [METADATA.uploadedAt]: new Date(this.now()).toISOString(),
        [METADATA.format]: this.sealer ? 'esdk2' : 'plain',
        [METADATA.job]: `${this.opts.workstationId}/${key.slice(key.lastIndexOf('/') + 1)}`,
        ...(this.sealer ? { [METADATA.keyIds]: this.keyIds.join(',') } : {}),
      },
    });
  }
}
