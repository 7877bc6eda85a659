import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0001-jobs', () => {
  it('creates the jobs table with one row per key and content, and a state check', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    const insert = db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state, created_at, updated_at)
      VALUES ('/in/a.pdf', 1, 1, ?, 'ecg-report', '2024-01-01', 'k', 'application/pdf', ?, 1, 1)`);
    insert.run('aa', 'queued');
    expect(() => insert.run('aa', 'queued')).toThrow(/UNIQUE/);
    expect(() => insert.run('bb', 'sent')).toThrow(/CHECK/);
    insert.run('bb', 'done');
    expect(db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 2 });
  });
});
