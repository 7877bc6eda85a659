// Read-only looks at an agent's queue database (dataDir/medrelay.db): phase times, counts,
// per-file latency. Never writes, except `fillQueue` for the restart workload.
import Database from 'better-sqlite3';

export function openReadonly(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

export function withDb(file, fn) {
  const db = openReadonly(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Timestamps (epoch ms) that split a one-pass run into intake and upload. */
export function phases(file) {
  return withDb(file, (db) => db.prepare(`SELECT COUNT(*) AS jobs, SUM(state = 'done') AS done,
    MIN(created_at) AS firstQueued, MAX(created_at) AS lastQueued,
    MIN(uploaded_at) AS firstUploaded, MAX(uploaded_at) AS lastUploaded FROM jobs`).get());
}

export function countsByState(db) {
  const out = {};
  for (const r of db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all()) out[r.state] = r.n;
  return out;
}

/** Rows for the trickle: source path → uploaded_at. */
export function uploadedAtByPath(file) {
  return withDb(file, (db) => new Map(db.prepare(`SELECT source_path AS p, uploaded_at AS t FROM jobs WHERE state = 'done'`)
    .all().map((r) => [r.p, r.t])));
}

/**
 * Adds `n` queued jobs that all point to one existing file (same size, mtime and hash, distinct
 * keys), in one transaction, the way an agent offline for a long time would have them.
 */
export function fillQueue(file, n, { sourcePath, size, mtimeMs, sha256, keyPrefix, createdAt }) {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare(`INSERT INTO jobs (source_path, size, mtime_ms, sha256, kind, record_date, object_key,
      content_type, state, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'ecg-report', '2025-03-03', ?,
      'application/pdf', 'queued', 0, ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        insert.run(sourcePath, size, mtimeMs, sha256, `${keyPrefix}/${String(i).padStart(6, '0')}.pdf`, createdAt + i, createdAt + i);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
