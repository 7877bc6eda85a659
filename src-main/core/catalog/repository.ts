// The catalog tables (migration 0005): what the store held for each day opened, with the decrypted
// index entries, so a day re-opens and can be searched without the store. A refresh replaces a
// day's rows in one transaction: a record deleted from the store is gone from the catalog with it.
import type { RecordKind } from '../../../src-shared/keys.js';
import type { Db } from '../db/open.js';
import type { IndexEntry } from './entry.js';
import type { FileRow } from './records.js';

export interface ListedObject {
  key: string;
  kind: RecordKind | 'unknown';
  storedSize: number;
  lastModified: number;
}

export interface ReadIndexObject {
  key: string;
  entries: IndexEntry[];
  problem: string | null;
}

export interface HeadResult {
  workstation: string | null;
  uploadedAt: string | null;
  format: string | null;
}

interface ObjectDbRow {
  key: string; date: string; kind: string; stored_size: number; last_modified: number; record_id: string;
  workstation: string | null; uploaded_at: string | null; entry: string | null;
}

/** Lower case, no accents, DICOM's `^` and commas as spaces: "Doe^Jöhn" → "doe john". */
export function searchableName(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[\^,=]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export class CatalogRepository {
  constructor(private readonly db: Db) {}

  refreshedAt(date: string): number | null {
    const r = this.db.prepare('SELECT refreshed_at AS t FROM catalog_days WHERE date = ?').get(date) as { t: number } | undefined;
    return r?.t ?? null;
  }

  /** Days in [from, to] that were ever read from the store. */
  cachedDays(from: string, to: string): string[] {
    return (this.db.prepare('SELECT date FROM catalog_days WHERE date BETWEEN ? AND ? ORDER BY date').all(from, to) as { date: string }[]).map((r) => r.date);
  }

  indexKeys(date: string): Set<string> {
    return new Set((this.db.prepare('SELECT key FROM catalog_index_objects WHERE date = ?').all(date) as { key: string }[]).map((r) => r.key));
  }

  unreadableIndex(date: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM catalog_index_objects WHERE date = ? AND problem IS NOT NULL').get(date) as { n: number }).n;
  }

  objectKeys(date: string): Set<string> {
    return new Set((this.db.prepare('SELECT key FROM catalog_objects WHERE date = ?').all(date) as { key: string }[]).map((r) => r.key));
  }

  /** Keys of the day's objects whose cleartext metadata was read already. */
  headedKeys(date: string): Set<string> {
    return new Set((this.db.prepare('SELECT key FROM catalog_objects WHERE date = ? AND headed = 1').all(date) as { key: string }[]).map((r) => r.key));
  }

  /** Keys of `date` (listed or about to be) that have an index entry in the catalog. */
  entryKeys(date: string): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT object_key AS k FROM catalog_entries WHERE date = ?').all(date) as { k: string }[]).map((r) => r.k));
  }

  /**
   * Replaces what the catalog holds for a day with a fresh listing: index objects read now are
   * added, those no longer listed are removed with their entries, objects no longer listed are
   * removed, and every object gets its record id (which may depend on its entry).
   */
  replaceDay(date: string, now: number, listing: {
    objects: ListedObject[];
    indexListed: Set<string>;
    indexRead: ReadIndexObject[];
    heads: Map<string, HeadResult>;
    recordIdOf: (o: ListedObject, entry: IndexEntry | null) => string;
  }): void {
    this.db.transaction(() => {
      const delEntries = this.db.prepare('DELETE FROM catalog_entries WHERE index_key = ?');
      const delIndex = this.db.prepare('DELETE FROM catalog_index_objects WHERE key = ?');
      for (const key of this.indexKeys(date)) {
        if (!listing.indexListed.has(key)) { delEntries.run(key); delIndex.run(key); }
      }
      const addIndex = this.db.prepare('INSERT OR REPLACE INTO catalog_index_objects (key, date, read_at, entries, problem) VALUES (?, ?, ?, ?, ?)');
      const addEntry = this.db.prepare(`INSERT OR REPLACE INTO catalog_entries (object_key, index_key, date, kind, patient_id, patient_search, modality, entry)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const ix of listing.indexRead) {
        delEntries.run(ix.key);
        addIndex.run(ix.key, date, now, ix.entries.length, ix.problem);
        for (const e of ix.entries) {
          addEntry.run(e.key, ix.key, date, e.kind, e.patientId ?? null, e.patientName ? searchableName(e.patientName) : null, e.modality ?? null, JSON.stringify(e));
        }
      }
      const entries = this.entriesOf(date);
      const listed = new Set(listing.objects.map((o) => o.key));
      const delObject = this.db.prepare('DELETE FROM catalog_objects WHERE key = ?');
      for (const { key } of this.db.prepare('SELECT key FROM catalog_objects WHERE date = ?').all(date) as { key: string }[]) {
        if (!listed.has(key)) delObject.run(key);
      }
      const upsert = this.db.prepare(`INSERT INTO catalog_objects (key, date, kind, stored_size, last_modified, record_id, workstation, uploaded_at, format, headed)
        VALUES (@key, @date, @kind, @size, @modified, @recordId, @workstation, @uploadedAt, @format, @headed)
        ON CONFLICT (key) DO UPDATE SET date = excluded.date, kind = excluded.kind, stored_size = excluded.stored_size,
          last_modified = excluded.last_modified, record_id = excluded.record_id,
          workstation = COALESCE(excluded.workstation, workstation), uploaded_at = COALESCE(excluded.uploaded_at, uploaded_at),
          format = COALESCE(excluded.format, format), headed = MAX(headed, excluded.headed)`);
      for (const o of listing.objects) {
        const head = listing.heads.get(o.key);
        upsert.run({
          key: o.key, date, kind: o.kind, size: o.storedSize, modified: o.lastModified, recordId: listing.recordIdOf(o, entries.get(o.key) ?? null),
          workstation: head?.workstation ?? null, uploadedAt: head?.uploadedAt ?? null, format: head?.format ?? null, headed: head ? 1 : 0,
        });
      }
      this.db.prepare('INSERT INTO catalog_days (date, refreshed_at) VALUES (?, ?) ON CONFLICT (date) DO UPDATE SET refreshed_at = excluded.refreshed_at').run(date, now);
    })();
  }

  /** The first entry (by index object key) of each object of a day. */
  private entriesOf(date: string): Map<string, IndexEntry> {
    const out = new Map<string, IndexEntry>();
    for (const r of this.db.prepare('SELECT object_key AS k, entry FROM catalog_entries WHERE date = ? ORDER BY object_key, index_key').all(date) as { k: string; entry: string }[]) {
      if (!out.has(r.k)) out.set(r.k, JSON.parse(r.entry) as IndexEntry);
    }
    return out;
  }

  private static readonly ROW_SQL = `SELECT o.key, o.date, o.kind, o.stored_size, o.last_modified, o.record_id, o.workstation, o.uploaded_at,
    (SELECT e.entry FROM catalog_entries e WHERE e.object_key = o.key ORDER BY e.index_key LIMIT 1) AS entry
    FROM catalog_objects o`;

  private toRow(r: ObjectDbRow): FileRow & { recordId: string } {
    return {
      key: r.key, date: r.date, kind: r.kind as RecordKind | 'unknown', storedSize: r.stored_size, lastModified: r.last_modified,
      workstation: r.workstation, uploadedAt: r.uploaded_at, entry: r.entry ? JSON.parse(r.entry) as IndexEntry : null, recordId: r.record_id,
    };
  }

  /** Every file of a day, with its entry and record id. */
  rowsOf(date: string): (FileRow & { recordId: string })[] {
    return (this.db.prepare(`${CatalogRepository.ROW_SQL} WHERE o.date = ?`).all(date) as ObjectDbRow[]).map((r) => this.toRow(r));
  }

  /** The files of the given records. */
  rowsOfRecords(records: { date: string; recordId: string }[]): (FileRow & { recordId: string })[] {
    const q = this.db.prepare(`${CatalogRepository.ROW_SQL} WHERE o.date = ? AND o.record_id = ?`);
    return records.flatMap(({ date, recordId }) => (q.all(date, recordId) as ObjectDbRow[]).map((r) => this.toRow(r)));
  }

  /** Records in [from, to] with a file that matches every given filter, in date order; at most `limit`. */
  findRecords(f: { from: string; to: string; patient?: string | undefined; kind?: string | undefined; modality?: string | undefined; limit: number }): { date: string; recordId: string }[] {
    const where = ['o.date BETWEEN ? AND ?'];
    const args: unknown[] = [f.from, f.to];
    if (f.kind) { where.push('o.kind = ?'); args.push(f.kind); }
    if (f.modality) { where.push('e.modality = ?'); args.push(f.modality); }
    if (f.patient) {
      const words = searchableName(f.patient).split(' ').filter(Boolean);
      const like = words.map(() => `e.patient_search LIKE ? ESCAPE '\\'`);
      where.push(`(e.patient_id = ?${like.length ? ` OR (${like.join(' AND ')})` : ''})`);
      args.push(f.patient.trim(), ...words.map((w) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    }
    const join = f.modality || f.patient ? 'JOIN catalog_entries e ON e.object_key = o.key' : '';
    const sql = `SELECT DISTINCT o.date AS date, o.record_id AS recordId FROM catalog_objects o ${join} WHERE ${where.join(' AND ')} ORDER BY o.date, o.record_id LIMIT ?`;
    return this.db.prepare(sql).all(...args, f.limit) as { date: string; recordId: string }[];
  }
}
