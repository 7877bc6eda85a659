// Version 1: the upload queue. One row per (object key, file content); a job's state changes in
// one transaction each (see core/queue/jobs.ts).
import type { Migration } from '../migrate.js';

export const m0001Jobs: Migration = {
  version: 1,
  name: 'jobs',
  up(db) {
    db.exec(`
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        source_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        kind TEXT NOT NULL,
        record_date TEXT NOT NULL,
        object_key TEXT NOT NULL,
        content_type TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','uploading','retry-wait','done','needs-attention','failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error_code TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        uploaded_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX jobs_key_content ON jobs (object_key, sha256);
      CREATE INDEX jobs_due ON jobs (state, next_attempt_at);
      CREATE INDEX jobs_source ON jobs (source_path, size, mtime_ms);
    `);
  },
};
