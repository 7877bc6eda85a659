// Version 5: the browsing catalog and the index outbox (core/catalog/). The catalog caches what a
// day's listings and decrypted index entries said, so a day opened once re-opens without the store
// and can be searched; a refresh replaces a day's rows with what the store holds now. The outbox
// holds index entries of delivered files until they are written to the store, and keeps entries
// sent in small index objects until they are repeated in a pack (catalog/index-writer.ts).
// The entries hold patient names and IDs: this database stays on the workstation (docs/browsing.md).
import type { Migration } from '../migrate.js';

export const m0005Catalog: Migration = {
  version: 5,
  name: 'catalog',
  up(db) {
    db.exec(`
      CREATE TABLE catalog_days (
        date TEXT PRIMARY KEY,
        refreshed_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE catalog_objects (
        key TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        kind TEXT NOT NULL,
        stored_size INTEGER NOT NULL,
        last_modified INTEGER NOT NULL,
        record_id TEXT NOT NULL,
        workstation TEXT,
        uploaded_at TEXT,
        format TEXT,
        headed INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX catalog_objects_record ON catalog_objects (date, record_id);
      CREATE TABLE catalog_index_objects (
        key TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        read_at INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        problem TEXT
      ) STRICT;
      CREATE INDEX catalog_index_objects_day ON catalog_index_objects (date);
      CREATE TABLE catalog_entries (
        object_key TEXT NOT NULL,
        index_key TEXT NOT NULL,
        date TEXT NOT NULL,
        kind TEXT NOT NULL,
        patient_id TEXT COLLATE NOCASE,
        patient_search TEXT,
        modality TEXT COLLATE NOCASE,
        entry TEXT NOT NULL,
        PRIMARY KEY (object_key, index_key)
      ) STRICT;
      CREATE INDEX catalog_entries_index ON catalog_entries (index_key);
      CREATE INDEX catalog_entries_day ON catalog_entries (date);
      CREATE TABLE index_outbox (
        id INTEGER PRIMARY KEY,
        date TEXT NOT NULL,
        entry TEXT NOT NULL,
        batch_key TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        pack_key TEXT
      ) STRICT;
      CREATE INDEX index_outbox_batch ON index_outbox (batch_key);
      CREATE INDEX index_outbox_pack ON index_outbox (date, sent_at, pack_key);
    `);
  },
};
