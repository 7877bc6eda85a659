import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0007-file-identity', () => {
  it('keeps version-6 jobs without an identity (they are hashed again at upload) and lets new jobs carry one', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 6));
    db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, created_at, updated_at)
      VALUES ('/in/a.dcm', 10, 5, 'aa', 'dicom', '2024-01-01', 'k1', 'application/dicom', 'queued', 1, 1)`).run();
    expect(migrate(db, MIGRATIONS.slice(0, 7))).toEqual([7]);
    expect(db.prepare('SELECT sha256, state, file_identity AS identity FROM jobs').get()).toEqual({ sha256: 'aa', state: 'queued', identity: null });
    db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, created_at, updated_at, file_identity)
      VALUES ('/in/b.dcm', 10, 5, 'bb', 'dicom', '2024-01-01', 'k2', 'application/dicom', 'queued', 1, 1, 'bb:1:2:10:5000000:5000000')`).run();
    expect(db.prepare(`SELECT file_identity AS identity FROM jobs WHERE object_key = 'k2'`).get()).toEqual({ identity: 'bb:1:2:10:5000000:5000000' });
  });
});
