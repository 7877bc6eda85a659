import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';
import { namingSalt } from '../../../../src-main/core/records/opaque-name.js';

describe('migration 0003-settings', () => {
  it('upgrades a version-2 database and keeps one naming salt across calls', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 2));
    db.prepare(`INSERT INTO file_reports VALUES ('/in/b.pdf', 10, 5, 'incomplete', 'no %%EOF', 7)`).run();
    expect(migrate(db, MIGRATIONS.slice(0, 3))).toEqual([3]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM file_reports').get()).toEqual({ n: 1 });
    const salt = namingSalt(db);
    expect(salt.length).toBe(32);
    expect(namingSalt(db).equals(salt)).toBe(true);
  });
});
