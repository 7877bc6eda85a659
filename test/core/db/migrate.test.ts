import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion, SchemaError, type Migration } from '../../../src-main/core/db/migrate.js';
import { openDatabase } from '../../../src-main/core/db/open.js';
import { MIGRATIONS } from '../../../src-main/core/db/migrations/index.js';
import { tempDir } from '../../support/tmp.js';

const m = (version: number, sql: string): Migration => ({ version, name: `m${version}`, up: (db) => db.exec(sql) });

describe('migrate', () => {
  it('applies each version once and records it in user_version', () => {
    const db = new Database(':memory:');
    expect(migrate(db, [m(1, 'CREATE TABLE a (x)'), m(2, 'CREATE TABLE b (y)')])).toEqual([1, 2]);
    expect(schemaVersion(db)).toBe(2);
    expect(migrate(db, [m(1, 'CREATE TABLE a (x)'), m(2, 'CREATE TABLE b (y)')])).toEqual([]);
  });

  it('rolls a failing step back and keeps the version before it', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [m(1, 'CREATE TABLE a (x)'), m(2, 'CREATE TABLE b (y); CREATE TABLE a (x)')])).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
  });

  it('refuses a database written by a newer MedRelay', () => {
    const db = new Database(':memory:');
    db.pragma('user_version = 9');
    expect(() => migrate(db, [m(1, 'SELECT 1')], 'queue.db')).toThrow(SchemaError);
    expect(() => migrate(db, [m(1, 'SELECT 1')], 'queue.db')).toThrow(/queue\.db has schema version 9, newer/);
  });

  it('refuses a migration list with gaps or out of order', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [m(1, 'SELECT 1'), m(3, 'SELECT 1')])).toThrow(/expected 2/);
  });

  it('opens a real file in WAL mode at the newest version', () => {
    const file = join(tempDir('db'), 'q', 'medrelay.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });
});
