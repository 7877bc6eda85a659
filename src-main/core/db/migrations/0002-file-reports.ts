// Version 2: files that were seen but not taken (still incomplete, rejected), so that `status`
// can name them. A row disappears when the file is taken or removed.
import type { Migration } from '../migrate.js';

export const m0002FileReports: Migration = {
  version: 2,
  name: 'file-reports',
  up(db) {
    db.exec(`
      CREATE TABLE file_reports (
        source_path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        code TEXT NOT NULL CHECK (code IN ('incomplete','bad-input')),
        reason TEXT NOT NULL,
        reported_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
