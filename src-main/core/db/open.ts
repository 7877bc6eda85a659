// Opens the queue database: WAL for crash safety with concurrent readers (`medrelay status`
// while the agent runs), then migrates it to the newest schema.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

export function openDatabase(file: string, opts: { readonly?: boolean } = {}): Db {
  if (!opts.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL survives process crashes; after a power cut the last jobs may be missing,
    // and the start-up scan finds their files again (nothing is deleted before it is verified).
    db.pragma('synchronous = NORMAL');
    migrate(db, MIGRATIONS, file);
  }
  return db;
}
