// Prepared statements, made once per database and SQL text. Preparing costs more than running the
// small statements the queue issues for every file, so repositories ask here instead of calling
// `db.prepare` each time. SQL texts are constants of the code (and the claim's few limits, see
// queue/jobs.ts), so the cache stays small.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

const caches = new WeakMap<Db, Map<string, Statement>>();

export function statement(db: Db, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}
