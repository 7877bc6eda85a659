// Files seen in a watched folder but not taken: still incomplete after the wait, or rejected
// (wrong type for the folder, unreadable DICOM). Shown by `status`; cleared when the file is taken.
import type { Db } from '../db/open.js';
import { statement } from '../db/statements.js';
import type { ProblemReport } from '../../../src-shared/api.js';

export type FileReportCode = 'incomplete' | 'bad-input';

export class FileReports {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  private sql(text: string) {
    return statement(this.db, text);
  }

  /** Records a problem; returns false when the same problem was already recorded for this version. */
  report(path: string, size: number, mtimeMs: number, code: FileReportCode, reason: string): boolean {
    const prev = this.sql('SELECT size, mtime_ms AS mtimeMs, code FROM file_reports WHERE source_path = ?')
      .get(path) as { size: number; mtimeMs: number; code: string } | undefined;
    if (prev && prev.size === size && prev.mtimeMs === mtimeMs && prev.code === code) return false;
    this.sql(`INSERT INTO file_reports (source_path, size, mtime_ms, code, reason, reported_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (source_path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, code = excluded.code,
      reason = excluded.reason, reported_at = excluded.reported_at`).run(path, size, mtimeMs, code, reason, this.now());
    return true;
  }

  clear(path: string): void {
    this.sql('DELETE FROM file_reports WHERE source_path = ?').run(path);
  }

  count(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM file_reports').get() as { n: number }).n;
  }

  recent(limit: number): ProblemReport[] {
    const rows = this.sql(`SELECT source_path AS file, code, reason, reported_at AS at FROM file_reports
      ORDER BY reported_at DESC LIMIT ?`).all(limit) as { file: string; code: FileReportCode; reason: string; at: number }[];
    return rows.map((r) => ({ file: r.file, key: null, code: r.code, reason: r.reason, at: new Date(r.at).toISOString() }));
  }
}
