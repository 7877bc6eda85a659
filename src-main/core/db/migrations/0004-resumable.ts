// Version 4: resumable uploads and the full job state machine. Jobs gain the multipart upload
// they own (upload id, part size, the ciphertext spooled for it), a `committed` state between
// `uploading` and `done` (= verified in the store), and when a retention action touched the source.
// Parts are journaled one row each, so a restart sends only the missing ones.
import type { Migration } from '../migrate.js';

export const m0004Resumable: Migration = {
  version: 4,
  name: 'resumable',
  up(db) {
    // SQLite cannot change a CHECK constraint in place: rebuild the table.
    db.exec(`
      CREATE TABLE jobs_v4 (
        id INTEGER PRIMARY KEY,
        source_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        kind TEXT NOT NULL,
        record_date TEXT NOT NULL,
        object_key TEXT NOT NULL,
        content_type TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','uploading','committed','retry-wait','done','needs-attention','failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error_code TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        uploaded_at INTEGER,
        upload_id TEXT,
        part_size INTEGER,
        stored_size INTEGER,
        resumed_parts INTEGER NOT NULL DEFAULT 0,
        retained_at INTEGER
      ) STRICT;
      INSERT INTO jobs_v4 (id, source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state,
        attempts, next_attempt_at, last_error_code, last_error, created_at, updated_at, uploaded_at)
        SELECT id, source_path, size, mtime_ms, sha256, kind, record_date, object_key, content_type, state,
        attempts, next_attempt_at, last_error_code, last_error, created_at, updated_at, uploaded_at FROM jobs;
      DROP TABLE jobs;
      ALTER TABLE jobs_v4 RENAME TO jobs;
      CREATE UNIQUE INDEX jobs_key_content ON jobs (object_key, sha256);
      CREATE INDEX jobs_due ON jobs (state, next_attempt_at);
      CREATE INDEX jobs_source ON jobs (source_path, size, mtime_ms);
      CREATE TABLE parts (
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        part_number INTEGER NOT NULL,
        etag TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (job_id, part_number)
      ) STRICT;
    `);
  },
};
