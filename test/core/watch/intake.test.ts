// Intake: a pass over many files prepares them one by one (read, check, classify, hash) and queues
// them a few at a time in one transaction; real files, a real SQLite queue.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT } from '../../../src-shared/keys.js';
import { openDatabase } from '../../../src-main/core/db/open.js';
import { samplePdf } from '../../../src-main/core/demo/samples.js';
import { FileReports } from '../../../src-main/core/queue/file-reports.js';
import { JobRepository } from '../../../src-main/core/queue/jobs.js';
import { Intake, type ReadyFile, type RefusedFile } from '../../../src-main/core/watch/intake.js';
import { tempDir } from '../../support/tmp.js';

function setup() {
  const dir = tempDir('intake');
  const db = openDatabase(join(dir, 'medrelay.db'));
  const jobs = new JobRepository(db);
  const reports = new FileReports(db);
  const intake = new Intake(jobs, reports, { layout: DEFAULT_LAYOUT, prefix: '', namingSalt: Buffer.alloc(32, 7) });
  const folder = join(dir, 'ecg');
  mkdirSync(folder);
  const reportFiles = (n: number) => Array.from({ length: n }, (_, i) => {
    const path = join(folder, `ECG_Report_20241105_1015${String(i).padStart(2, '0')}.pdf`);
    writeFileSync(path, samplePdf(`report ${i}`));
    return path;
  });
  return { db, jobs, reports, intake, reportFiles };
}

const versionOf = (path: string) => {
  const s = statSync(path);
  return { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
};

async function prepareAll(intake: Intake, paths: string[]): Promise<ReadyFile[]> {
  const ready: ReadyFile[] = [];
  for (const path of paths) {
    const r = await intake.prepare(path, versionOf(path), 'ecg', true);
    if (r.result !== 'ready') throw new Error(`${path} not ready: ${r.result}`);
    ready.push(r);
  }
  return ready;
}

describe('Intake', () => {
  it('prepares files without queueing them, then queues them together and clears their problem reports', async () => {
    const { jobs, reports, intake, reportFiles } = setup();
    const paths = reportFiles(3);
    reports.report(paths[0]!, 1, 1, 'incomplete', `${paths[0]}: no %%EOF yet`);
    const ready = await prepareAll(intake, paths);
    expect(jobs.counts().queued).toBe(0);
    expect(ready.map((r) => r.job.objectKey)).toEqual(paths.map((_, i) => `ecg-reports/2024/11/05/ECG_Report_20241105_1015${String(i).padStart(2, '0')}.pdf`));

    const out = intake.commit(ready);
    expect(out.map((r) => (r.result === 'enqueued' ? r.enqueue.outcome : r.result))).toEqual(['queued', 'queued', 'queued']);
    expect(jobs.counts().queued).toBe(3);
    expect(reports.count()).toBe(0);
    // The same versions are known now: not read again.
    expect((await intake.prepare(paths[1]!, versionOf(paths[1]!), 'ecg', true)).result).toBe('known');
  });

  it('queues the others when the queue refuses one of a batch, and says why it refused that one', async () => {
    const { db, jobs, intake, reportFiles } = setup();
    const paths = reportFiles(3);
    const ready = await prepareAll(intake, paths);
    // A real refusal by SQLite (as a full disk would give), for the second file only.
    db.exec(`CREATE TRIGGER refuse_one BEFORE INSERT ON jobs WHEN NEW.source_path LIKE '%_101501.pdf'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);

    const out = intake.commit(ready);
    expect(out.map((r) => r.result)).toEqual(['enqueued', 'refused', 'enqueued']);
    expect((out[1] as RefusedFile).error.message).toBe(`${paths[1]} could not be queued: database or disk is full`);
    expect(jobs.counts().queued).toBe(2);
    expect(jobs.hasVersion(paths[0]!, ready[0]!.job.size, ready[0]!.job.mtimeMs)).toBe(true);
    expect(jobs.hasVersion(paths[1]!, ready[1]!.job.size, ready[1]!.job.mtimeMs)).toBe(false);
    expect(jobs.hasVersion(paths[2]!, ready[2]!.job.size, ready[2]!.job.mtimeMs)).toBe(true);
  });

  it('queues files handed over at about the same time (takeSoon) in one commit, each answered on its own', async () => {
    const { db, jobs, intake, reportFiles } = setup();
    const paths = reportFiles(4);
    db.exec(`CREATE TRIGGER refuse_one BEFORE INSERT ON jobs WHEN NEW.source_path LIKE '%_101502.pdf'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);
    const commits: number[] = [];
    const commit = intake.commit.bind(intake);
    intake.commit = (ready) => { commits.push(ready.length); return commit(ready); };

    const out = await Promise.allSettled(paths.map((p) => intake.takeSoon(p, versionOf(p), 'ecg', true)));
    expect(commits).toEqual([4]);
    expect(out.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((out[2] as PromiseRejectedResult).reason)).toContain(`${paths[2]} could not be queued`);
    expect(jobs.counts().queued).toBe(3);
  });
});
