import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0004-resumable', () => {
  it('keeps version-3 jobs, adds the committed state and the parts journal', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 3));
    db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, attempts, created_at, updated_at, uploaded_at)
      VALUES ('/in/a.pdf', 10, 5, 'aa', 'ecg-report', '2024-01-01', 'k', 'application/pdf', 'done', 2, 1, 1, 9)`).run();
    expect(migrate(db, MIGRATIONS.slice(0, 4))).toEqual([4]);
    expect(db.prepare('SELECT state, attempts, uploaded_at AS u, upload_id AS up, resumed_parts AS r FROM jobs').get()).toEqual({ state: 'done', attempts: 2, u: 9, up: null, r: 0 });
    db.prepare(`UPDATE jobs SET state = 'committed', upload_id = 'x', part_size = 8 WHERE id = 1`).run();
    db.prepare(`INSERT INTO parts VALUES (1, 1, '"etag"', 8)`).run();
    expect(() => db.prepare(`INSERT INTO parts VALUES (1, 1, '"etag"', 8)`).run()).toThrow(/UNIQUE|PRIMARY/);
    expect(() => db.prepare(`UPDATE jobs SET state = 'sent'`).run()).toThrow(/CHECK/);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND name LIKE 'jobs_%'").get()).toEqual({ n: 3 });
  });
});
