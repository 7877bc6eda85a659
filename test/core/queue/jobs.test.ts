import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/core/db/open.js';
import { JobRepository, type NewJob } from '../../../src-main/core/queue/jobs.js';
import { tempDir } from '../../support/tmp.js';

function repo(now = () => 1000) {
  const db = openDatabase(join(tempDir('jobs'), 'medrelay.db'));
  return new JobRepository(db, now);
}
const job = (over: Partial<NewJob> = {}): NewJob => ({
  sourcePath: '/in/ECG_Report_20240315_101500.pdf', size: 10, mtimeMs: 5, sha256: 'aa', kind: 'ecg-report',
  recordDate: '2024-03-15', objectKey: 'ecg-reports/2024/03/15/ECG_Report_20240315_101500.pdf', contentType: 'application/pdf', ...over,
});

describe('JobRepository', () => {
  it('never queues the same content under the same key twice', () => {
    const r = repo();
    expect(r.enqueue(job()).outcome).toBe('queued');
    expect(r.enqueue(job({ sourcePath: '/in/copy.pdf' })).outcome).toBe('duplicate');
    expect(r.counts().queued).toBe(1);
  });

  it('lets a queued file take its new content instead of queueing a second job', () => {
    const r = repo();
    r.enqueue(job());
    const u = r.enqueue(job({ sha256: 'bb', size: 12, mtimeMs: 9 }));
    expect(u.outcome).toBe('updated');
    expect(r.counts().queued).toBe(1);
    expect(r.get(u.job.id)!.sha256).toBe('bb');
  });

  it('parks other content for a key already delivered as a conflict that names both files', () => {
    const r = repo();
    const first = r.enqueue(job()).job;
    r.claimDue(1);
    r.setState(first.id, 'committed');
    r.setState(first.id, 'done', { uploadedAt: 2000 });
    const c = r.enqueue(job({ sourcePath: '/in/other/ECG_Report_20240315_101500.pdf', sha256: 'cc' }));
    expect(c.outcome).toBe('conflict');
    expect(c.job.state).toBe('needs-attention');
    expect(c.job.lastError).toContain('/in/other/ECG_Report_20240315_101500.pdf');
    expect(c.job.lastError).toContain('/in/ECG_Report_20240315_101500.pdf');
  });

  it('claims due jobs up to the limit and counts attempts', () => {
    let t = 1000;
    const r = repo(() => t);
    for (let i = 0; i < 3; i++) r.enqueue(job({ sha256: `s${i}`, objectKey: `k${i}` }));
    const claimed = r.claimDue(2);
    expect(claimed.map((j) => j.attempts)).toEqual([1, 1]);
    expect(r.counts()).toMatchObject({ queued: 1, uploading: 2 });
    r.setState(claimed[0]!.id, 'retry-wait', { code: 'network', message: 'down', nextAttemptAt: 5000 });
    expect(r.claimDue(5).map((j) => j.objectKey)).toEqual(['k2']);
    t = 5000;
    expect(r.claimDue(5).map((j) => j.objectKey)).toEqual(['k0']);
    expect(r.get(claimed[0]!.id)!.attempts).toBe(2);
  });

  it('claims the oldest jobs, as many as each claim asks for, whatever the limit of the claim before', () => {
    const r = repo();
    for (let i = 0; i < 10; i++) r.enqueue(job({ sha256: `s${i}`, objectKey: `k${i}` }));
    expect([1, 3, 2, 1, 8].map((n) => r.claimDue(n).map((j) => j.objectKey))).toEqual([
      ['k0'], ['k1', 'k2', 'k3'], ['k4', 'k5'], ['k6'], ['k7', 'k8', 'k9'],
    ]);
    expect(() => r.claimDue(2.5)).toThrow('a limit must be a whole number, not 2.5');
  });

  it('puts interrupted uploads back in the queue after a crash', () => {
    const r = repo();
    r.enqueue(job());
    r.claimDue(1);
    expect(r.requeueInterrupted()).toBe(1);
    expect(r.counts()).toMatchObject({ queued: 1, uploading: 0 });
  });

  it('refuses a state change the state machine does not list, in the same transaction', () => {
    const r = repo();
    const j = r.enqueue(job()).job;
    expect(() => r.setState(j.id, 'done')).toThrow(/cannot go from queued to done/);
    r.claimDue(1);
    expect(() => r.setState(j.id, 'done')).toThrow(/cannot go from uploading to done/);
    r.setState(j.id, 'committed');
    r.setState(j.id, 'done', { uploadedAt: 5 });
    expect(() => r.setState(j.id, 'queued')).toThrow(/cannot go from done to queued/);
    expect(r.get(j.id)).toMatchObject({ state: 'done', uploadedAt: 5 });
  });

  it('keeps a multipart upload and its parts until the job ends it; a crash keeps them for the resume', () => {
    const r = repo();
    const j = r.enqueue(job()).job;
    r.claimDue(1);
    r.setStoredSize(j.id, 30);
    r.beginUpload(j.id, 'up-1', 16, 30);
    r.partDone(j.id, { partNumber: 1, etag: '"a"', size: 16 });
    expect(r.requeueInterrupted()).toBe(1);
    expect(r.get(j.id)).toMatchObject({ state: 'queued', uploadId: 'up-1', partSize: 16, storedSize: 30 });
    expect(r.parts(j.id)).toEqual([{ partNumber: 1, etag: '"a"', size: 16 }]);
    expect(r.ownedUploads()).toEqual(new Map([['up-1', job().objectKey]]));
    r.endUpload(j.id);
    expect(r.parts(j.id)).toEqual([]);
    expect(r.get(j.id)!.uploadId).toBeNull();
  });

  it('brings parked jobs back by the reasons given: a restart retries credentials, a person also vanished files', () => {
    const r = repo();
    const auth = r.enqueue(job({ sha256: 'a1', objectKey: 'k-auth' })).job;
    const gone = r.enqueue(job({ sha256: 'g1', objectKey: 'k-gone' })).job;
    r.claimDue(2);
    r.setState(auth.id, 'needs-attention', { code: 'auth', message: 'refused' });
    r.setState(gone.id, 'needs-attention', { code: 'not-found', message: 'vanished' });
    expect(r.requeueParked()).toBe(1);
    expect(r.get(gone.id)!.state).toBe('needs-attention');
    expect(r.requeueParked(['not-found'])).toBe(1);
    expect(r.counts()).toMatchObject({ queued: 2, 'needs-attention': 0 });
  });

  it('knows a file version already taken, so it is not hashed again', () => {
    const r = repo();
    r.enqueue(job());
    expect(r.hasVersion('/in/ECG_Report_20240315_101500.pdf', 10, 5)).toBe(true);
    expect(r.hasVersion('/in/ECG_Report_20240315_101500.pdf', 11, 5)).toBe(false);
  });

  it('returns a newly queued job exactly as the database holds it', () => {
    const r = repo();
    for (const j of [job(), job({ sha256: 'ident', objectKey: 'k-ident', fileIdentity: 'ident:1:2:3:4:5' })]) {
      const queued = r.enqueue(j);
      expect(queued.outcome).toBe('queued');
      expect(queued.job).toEqual(r.get(queued.job.id));
    }
  });
});
