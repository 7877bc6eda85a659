import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0005-catalog', () => {
  it('upgrades a version-4 database, keeps its jobs, and adds the catalog and the index outbox', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 4));
    db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, created_at, updated_at)
      VALUES ('/in/a.pdf', 1, 2, 'x', 'ecg-report', '2024-03-15', 'k', 'application/pdf', 'done', 3, 4)`).run();
    expect(migrate(db, MIGRATIONS.slice(0, 5))).toEqual([5]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 1 });
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'catalog_%' OR name = 'index_outbox') ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(['catalog_days', 'catalog_entries', 'catalog_index_objects', 'catalog_objects', 'index_outbox']);
    db.prepare(`INSERT INTO catalog_entries (object_key, index_key, date, kind, patient_id, patient_search, modality, entry) VALUES ('k', 'i', '2024-03-15', 'dicom', 'MRN-1', 'doe jane', 'CT', '{}')`).run();
    // Patient IDs and modalities compare without case, as clinic staff type them.
    expect(db.prepare(`SELECT COUNT(*) AS n FROM catalog_entries WHERE patient_id = 'mrn-1' AND modality = 'ct'`).get()).toEqual({ n: 1 });
  });
});
