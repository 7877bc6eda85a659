import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0002-file-reports', () => {
  it('upgrades a version-1 database and keeps its jobs', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, created_at, updated_at)
      VALUES ('/in/a.pdf', 1, 1, 'aa', 'ecg-report', '2024-01-01', 'k', 'application/pdf', 'done', 1, 1)`).run();
    expect(migrate(db, MIGRATIONS.slice(0, 2))).toEqual([2]);
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 1 });
    db.prepare(`INSERT INTO file_reports VALUES ('/in/b.pdf', 10, 5, 'incomplete', 'no %%EOF', 7)`).run();
    expect(() => db.prepare(`INSERT INTO file_reports VALUES ('/in/c.pdf', 10, 5, 'other', 'x', 7)`).run()).toThrow(/CHECK/);
  });
});
