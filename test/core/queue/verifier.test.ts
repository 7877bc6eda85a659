// Verification of committed uploads against a real RGW: a folder's worth of jobs is checked with
// one listing, a lone job with one HEAD, and nothing that differs from what our write got back is
// marked done. Requests are counted by a middleware on the real client (no mock); stores that
// misbehave (a listing that lags, an object replaced behind our back, a slow store) are the real
// S3 store wrapped, every request still going to RGW.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/core/db/open.js';
import { samplePdf } from '../../../src-main/core/demo/samples.js';
import { JobRepository } from '../../../src-main/core/queue/jobs.js';
import { QueueRunner } from '../../../src-main/core/queue/runner.js';
import { FolderStore } from '../../../src-main/core/store/folder.js';
import type { ObjectStore } from '../../../src-main/core/store/types.js';
import { tempDir } from '../../support/tmp.js';
import { gate, MB, rig, sleep, statesOf, wrap, type Rig } from './rig.js';
describe('verification of committed uploads', () => {
  const closers: (() => void)[] = [];
  afterAll(() => { for (const c of closers) c(); });

  it('verifies a folder of committed uploads with one listing and no HEAD, and each job goes committed → done', async () => {
    const r = await rig('verify-folder');
    closers.push(() => r.site.client.destroy());
    const queued = r.queue(Array.from({ length: 8 }, (_, i) => `01/ECG_Report_20240501_0900${String(i).padStart(2, '0')}.pdf`));
    await r.deliver(8);
    expect(r.jobs.counts().done).toBe(8);
    expect(r.site.counts).toEqual({ PutObjectCommand: 8, ListObjectsV2Command: 1 });
    for (const j of queued) expect(statesOf(r.events, j.id)).toEqual(['committed', 'done']);
  });

  it('verifies by HEAD a job alone in its folder, at once, and jobs too few in a folder for a listing to pay', async () => {
    const r = await rig('verify-lone');
    closers.push(() => r.site.client.destroy());
    const runner = r.runner();
    r.site.reset();
    runner.start(r.site.encryption);
    // The linger is a minute: a lone job verified within the poll's limit did not wait for it.
    r.queue(['02/ECG_Report_20240502_090000.pdf']);
    runner.pump();
    await r.settled(1);
    r.queue(Array.from({ length: 3 }, (_, i) => `03/ECG_Report_20240503_09000${i}.pdf`));
    runner.pump();
    await r.settled(4);
    await runner.stop();
    expect(r.jobs.counts().done).toBe(4);
    expect(r.site.counts).toEqual({ PutObjectCommand: 4, HeadObjectCommand: 4 });
  });

  it('verifies by HEAD a write the store answered without an ETag (Ceph RGW completing a multipart upload)', async () => {
    const r = await rig('verify-multipart');
    closers.push(() => r.site.client.destroy());
    r.queue(['04/ECG_Report_20240504_090000.pdf', '04/ECG_Report_20240504_090001.pdf'], (i) => Buffer.concat([Buffer.alloc(6 * MB, i + 1), samplePdf(`large ${i}`)]));
    const verified: string[] = [];
    const store = wrap(r.site.store, { head: async (key) => { verified.push(key); return r.site.store.head(key); } });
    await r.deliver(2, store);
    expect(r.jobs.counts().done).toBe(2);
    expect(r.site.counts.CompleteMultipartUploadCommand).toBe(2);
    // Nothing to compare a listing's ETag with: each is read back with HEAD (size and job name).
    expect(r.site.counts.ListObjectsV2Command).toBeUndefined();
    expect(verified.sort()).toEqual(['ecg-reports/2024/05/04/ECG_Report_20240504_090000.pdf', 'ecg-reports/2024/05/04/ECG_Report_20240504_090001.pdf']);
  });

  it('does not mark done an object replaced behind our back, whether checked by listing or by HEAD', async () => {
    const r = await rig('verify-replaced');
    closers.push(() => r.site.client.destroy());
    const inFolder = r.queue(Array.from({ length: 8 }, (_, i) => `05/ECG_Report_20240505_09000${i}.pdf`));
    const [alone] = r.queue(['06/ECG_Report_20240506_090000.pdf']);
    const listed = inFolder[3]!;
    const replace = new Set([listed.objectKey, alone!.objectKey]);
    // Right after our write, someone else writes other bytes of the same size under the key.
    const store = wrap(r.site.store, {
      put: async (req) => {
        const written = await r.site.store.put(req);
        if (replace.delete(req.key) && 'buffer' in req.data) {
          const other = Buffer.alloc(req.data.buffer.length, 0x5a);
          await r.site.client.send(new PutObjectCommand({ Bucket: r.site.bucket, Key: req.key, Body: other }));
        }
        return written;
      },
    });
    await r.deliver(9, store);
    expect(r.site.counts.ListObjectsV2Command).toBe(1);
    for (const j of [listed, alone!]) {
      expect(statesOf(r.events, j.id)).not.toContain('done');
      expect(r.events.find((e) => e.jobId === j.id && e.state === 'retry-wait')?.error?.message).toMatch(/has ETag .* not the .* of our write, after the upload; uploading again/);
      // Sent again, the store refuses (the key exists) and the object does not name this job.
      expect(r.jobs.get(j.id)).toMatchObject({ state: 'needs-attention', lastErrorCode: 'conflict' });
    }
    expect(r.jobs.counts().done).toBe(7);
  });

  it('verifies by HEAD a key the listing does not show yet', async () => {
    const r = await rig('verify-lagging');
    closers.push(() => r.site.client.destroy());
    const queued = r.queue(Array.from({ length: 10 }, (_, i) => `07/ECG_Report_20240507_09000${i}.pdf`));
    const hidden = queued[4]!.objectKey;
    const store = wrap(r.site.store, {
      listPage: async (prefix, after, max) => {
        const page = await r.site.store.listPage(prefix, after, max);
        return { ...page, objects: page.objects.filter((o) => o.key !== hidden) };
      },
    });
    await r.deliver(10, store);
    expect(r.jobs.counts().done).toBe(10);
    expect(r.site.counts).toEqual({ PutObjectCommand: 10, ListObjectsV2Command: 1, HeadObjectCommand: 1 });
  });

  /** Objects of another workstation: `ECG_Report_<day>_<first + i>.pdf` for i < count. */
  async function othersIn(r: Rig, day: string, first: number, count: number): Promise<void> {
    for (let i = 0; i < count; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => r.site.client.send(new PutObjectCommand({
        Bucket: r.site.bucket, Key: `ecg-reports/2024/05/${day}/ECG_Report_202405${day}_${first + i + j}.pdf`, Body: 'other',
      }))));
    }
  }

  /** Counts the keys the store's listing pages bring. */
  function countListed(r: Rig): { store: ObjectStore; listed: () => number } {
    let listed = 0;
    const store = wrap(r.site.store, {
      listPage: async (...a) => { const p = await r.site.store.listPage(...a); listed += p.objects.length; return p; },
    });
    return { store, listed: () => listed };
  }

  it('skips the keys of others between ours instead of reading them or sending ours to HEAD', async () => {
    const r = await rig('verify-skip');
    closers.push(() => r.site.client.destroy());
    // 300 objects of another workstation sort between our first key and the nine others.
    await othersIn(r, '08', 100000, 300);
    r.queue(['08/ECG_Report_20240508_090000.pdf', ...Array.from({ length: 9 }, (_, i) => `08/ECG_Report_20240508_20000${i}.pdf`)]);
    const { store, listed } = countListed(r);
    await r.deliver(10, store);
    expect(r.jobs.counts().done).toBe(10);
    // A page from our first key, then one from just before the second.
    expect(r.site.counts).toEqual({ PutObjectCommand: 10, ListObjectsV2Command: 2 });
    expect(listed()).toBeLessThan(100);
  });

  it('keeps listing while pages verify enough of ours, though most keys between them were verified before', async () => {
    const r = await rig('verify-spread');
    closers.push(() => r.site.client.destroy());
    // Each of our 40 keys is followed by 9 keys already in the store (as when a backlog of several
    // folders is sent folder by folder and its keys interleave by time): one key in ten is ours.
    const ours = Array.from({ length: 40 }, (_, i) => `ECG_Report_20240517_0900${String(i).padStart(2, '0')}`);
    for (let i = 0; i < ours.length; i += 4) {
      await Promise.all(ours.slice(i, i + 4).flatMap((name) => Array.from({ length: 9 }, (_, j) => r.site.client.send(new PutObjectCommand({
        Bucket: r.site.bucket, Key: `ecg-reports/2024/05/17/${name}${j + 1}.pdf`, Body: 'earlier',
      })))));
    }
    r.queue(ours.map((name) => `17/${name}.pdf`));
    await r.deliver(40);
    expect(r.jobs.counts().done).toBe(40);
    // Pages of 192, 116 and 72 keys verify 19, 11 and 7 of ours; only the last few go by HEAD.
    expect(r.site.counts.ListObjectsV2Command).toBe(3);
    expect(r.site.counts.HeadObjectCommand ?? 0).toBeLessThanOrEqual(4);
  });

  it('stops listing after two pages of mostly keys of others, and verifies the rest with HEAD', async () => {
    const r = await rig('verify-foreign');
    closers.push(() => r.site.client.destroy());
    // Our first and second keys are each followed by 70 objects of another workstation.
    await othersIn(r, '09', 100000, 70);
    await othersIn(r, '09', 200000, 70);
    r.queue(['09/ECG_Report_20240509_090000.pdf', '09/ECG_Report_20240509_190000.pdf', ...Array.from({ length: 7 }, (_, i) => `09/ECG_Report_20240509_29000${i}.pdf`)]);
    const { store, listed } = countListed(r);
    await r.deliver(9, store);
    expect(r.jobs.counts().done).toBe(9);
    // Each page brought one of ours: after the second, the seven left go by HEAD, though they sort together.
    expect(r.site.counts).toEqual({ PutObjectCommand: 9, ListObjectsV2Command: 2, HeadObjectCommand: 7 });
    // At most four keys per key of ours left (+32) per page.
    expect(listed()).toBeLessThanOrEqual(68 + 64);
  });

  it('holds new uploads while too many committed ones wait for a slow store, and delivers them all once it answers', async () => {
    const r = await rig('verify-bound');
    closers.push(() => r.site.client.destroy());
    r.queue(Array.from({ length: 10 }, (_, i) => `14/ECG_Report_20240514_09000${i}.pdf`));
    const slow = gate();
    const store = wrap(r.site.store, {
      listPage: async (...a) => { await slow.opened; return r.site.store.listPage(...a); },
      head: async (key) => { await slow.opened; return r.site.store.head(key); },
    });
    const runner = r.runner(store, { concurrency: 2, maxUnverified: 4, verifyLingerMs: 100 });
    runner.start(r.site.encryption);
    await expect.poll(() => r.jobs.counts().committed, { timeout: 30_000, interval: 50 }).toBe(4);
    await sleep(500);
    expect(r.jobs.counts()).toMatchObject({ committed: 4, uploading: 0, queued: 6, done: 0 });
    slow.open();
    await r.settled(10);
    await runner.stop();
    expect(r.jobs.counts().done).toBe(10);
  });

  it('verifies a backlog streaming in with a listing after the short wait, then one after the backlog wait, where the short wait alone lists it many times', async () => {
    const listingsFor = async (label: string, backlogMs: number) => {
      const r = await rig(label);
      closers.push(() => r.site.client.destroy());
      r.queue(Array.from({ length: 96 }, (_, i) => `18/ECG_Report_20240518_0900${String(i).padStart(2, '0')}.pdf`));
      // Each write takes 25 ms more: eight at a time, the 96 commit in waves over half a second or more.
      const store = wrap(r.site.store, { put: async (req) => { await sleep(25); return r.site.store.put(req); } });
      const runner = r.runner(store, { concurrency: 8, verifyLingerMs: 100, verifyBacklogLingerMs: backlogMs });
      r.site.reset();
      runner.start(r.site.encryption);
      await r.settled(96);
      await runner.stop();
      expect(r.jobs.counts().done).toBe(96);
      return { listings: r.site.counts.ListObjectsV2Command ?? 0, heads: r.site.counts.HeadObjectCommand ?? 0 };
    };
    // The first round waits 100 ms for more commits (the first wave of eight is done at once); it
    // ends with uploads still going, so the next waits a minute (here: until no upload is left).
    expect(await listingsFor('verify-backlog', 60_000)).toEqual({ listings: 2, heads: 0 });
    // The control: with 100 ms for a backlog too, the same stream is checked in more rounds.
    expect((await listingsFor('verify-backlog-control', 100)).listings).toBeGreaterThan(2);
  });

  it('verifies a few commits after the short wait while a long upload goes on, not after the backlog wait', async () => {
    const r = await rig('verify-few');
    closers.push(() => r.site.client.destroy());
    const [large, ...small] = r.queue(['19/ECG_Report_20240519_090000.pdf', '19/ECG_Report_20240519_090001.pdf', '19/ECG_Report_20240519_090002.pdf']);
    const held = gate();
    const store = wrap(r.site.store, { put: async (req) => { if (req.key === large!.objectKey) await held.opened; return r.site.store.put(req); } });
    const runner = r.runner(store, { concurrency: 4, verifyLingerMs: 100, verifyBacklogLingerMs: 60_000 });
    runner.start(r.site.encryption);
    // The large one is still on the wire (more is coming), yet the two others are done.
    await expect.poll(() => small.map((j) => r.jobs.get(j.id)!.state), { timeout: 30_000, interval: 20 }).toEqual(['done', 'done']);
    expect(r.jobs.get(large!.id)!.state).toBe('uploading');
    held.open();
    await r.settled(3);
    await runner.stop();
  });

  it('writes the commits of a moment to the database together, in one transaction, before their round', async () => {
    const r = await rig('verify-record');
    closers.push(() => r.site.client.destroy());
    const queued = r.queue(Array.from({ length: 8 }, (_, i) => `13/ECG_Report_20240513_09000${i}.pdf`));
    // Where each `committed` was written: in which transaction (better-sqlite3 opens one per call).
    const writes: { id: number; tx: number | null }[] = [];
    let tx = 0;
    const transaction = r.jobs.transaction.bind(r.jobs);
    r.jobs.transaction = (f) => { tx++; transaction(f); };
    const setState = r.jobs.setState.bind(r.jobs);
    r.jobs.setState = (id, state, opts) => {
      if (state === 'committed') writes.push({ id, tx: r.site.db.inTransaction ? tx : null });
      setState(id, state, opts);
    };
    const puts = gate();
    let held = 0;
    // All eight are sent, then answered at once: their commits come within a moment of each other.
    const store = wrap(r.site.store, { put: async (req) => { if (++held === 8) puts.open(); await puts.opened; return r.site.store.put(req); } });
    const runner = r.runner(store, { concurrency: 8 });
    runner.start(r.site.encryption);
    // The linger is a minute: the row says committed long before any round.
    await expect.poll(() => queued.map((j) => r.jobs.get(j.id)!.state), { timeout: 30_000, interval: 20 }).toEqual(Array(8).fill('committed'));
    expect(writes.map((w) => w.id).sort((a, b) => a - b)).toEqual(queued.map((j) => j.id));
    // One transaction for all (two if RGW answered one of them more than RECORD_AFTER_MS late), none alone.
    expect(writes.every((w) => w.tx !== null)).toBe(true);
    expect(new Set(writes.map((w) => w.tx)).size).toBeLessThanOrEqual(2);
    expect(queued.map((j) => r.jobs.get(j.id)!.storedSize)).toEqual(queued.map(() => expect.any(Number) as number));
    await runner.stop();
    expect(r.jobs.counts().done).toBe(8);
  });

  it('verifies what is committed when it stops, without waiting for more commits', async () => {
    const r = await rig('verify-stop');
    closers.push(() => r.site.client.destroy());
    const [first, second] = r.queue(['10/ECG_Report_20240510_090000.pdf', '10/ECG_Report_20240510_090001.pdf']);
    const secondPut = gate();
    const store = wrap(r.site.store, {
      put: async (req) => { if (req.key === second!.objectKey) await secondPut.opened; return r.site.store.put(req); },
    });
    const runner = r.runner(store, { concurrency: 2 });
    runner.start(r.site.encryption);
    // The first waits (the linger is a minute) for the second to commit and join its round.
    await expect.poll(() => r.jobs.get(first!.id)!.state, { timeout: 30_000, interval: 20 }).toBe('committed');
    const stopping = runner.stop();
    secondPut.open();
    await stopping;
    // Both verified within the grace (2 s), not parked as queued.
    expect(r.jobs.get(first!.id)!.state).toBe('done');
    expect(r.jobs.get(second!.id)!.state).toBe('done');
  });

  it('parks as queued what it could not verify within the grace; the next start verifies it from the owner check alone', async () => {
    const r = await rig('verify-park');
    closers.push(() => r.site.client.destroy());
    const [held, parked] = r.queue(['11/ECG_Report_20240511_090000.pdf', '12/ECG_Report_20240512_090000.pdf']);
    const headCalled = gate();
    const answerHead = gate();
    const secondPut = gate();
    // The first job's HEAD hangs past the grace; the second commits while that round is under way.
    const store = wrap(r.site.store, {
      head: async (key) => { headCalled.open(); await answerHead.opened; return r.site.store.head(key); },
      put: async (req) => { if (req.key === parked!.objectKey) await secondPut.opened; return r.site.store.put(req); },
    });
    const runner = r.runner(store, { concurrency: 2, verifyLingerMs: 0, stopGraceMs: 300 });
    runner.start(r.site.encryption);
    await headCalled.opened;
    secondPut.open();
    await expect.poll(() => r.jobs.get(parked!.id)!.state, { timeout: 30_000, interval: 20 }).toBe('committed');
    const stopping = runner.stop();
    await sleep(600);
    answerHead.open();
    await stopping;
    expect(r.jobs.get(held!.id)!.state).toBe('done');
    expect(r.jobs.get(parked!.id)).toMatchObject({ state: 'queued', lastError: expect.stringMatching(/parked when MedRelay stopped/) });
    expect(statesOf(r.events, parked!.id)).toEqual(['committed', 'queued']);
    await r.deliver(2);
    expect(r.jobs.get(parked!.id)!.state).toBe('done');
    // Sent again: refused (412), then the owner check's HEAD finds this job's object: verified from it.
    expect(r.site.counts).toEqual({ PutObjectCommand: 1, HeadObjectCommand: 1 });
  });
});

describe('verification on a folder store', () => {
  it('verifies each copy by looking at the file and its metadata', async () => {
    const dir = tempDir('verify-folder-store');
    const db = openDatabase(join(dir, 'medrelay.db'));
    const jobs = new JobRepository(db);
    const store = new FolderStore(join(dir, 'store'));
    const files = [0, 1, 2].map((i) => {
      const p = join(dir, `ECG_Report_20240513_09000${i}.pdf`);
      const content = samplePdf(`folder ${i}`);
      writeFileSync(p, content);
      return jobs.enqueue({
        sourcePath: p, size: content.length, mtimeMs: Math.trunc(statSync(p).mtimeMs), sha256: createHash('sha256').update(content).digest('hex'),
        kind: 'ecg-report', recordDate: '2024-05-13', objectKey: `ecg-reports/2024/05/13/ECG_Report_20240513_09000${i}.pdf`, contentType: 'application/pdf',
      }).job;
    });
    const runner = new QueueRunner(jobs, store, { concurrency: 4, workstationId: 'ws-f', spoolDir: join(dir, 'spool'), partSize: 5 * MB, baseMs: 20, maxMs: 200 });
    runner.start(null);
    await expect.poll(() => jobs.counts().done, { timeout: 30_000, interval: 50 }).toBe(3);
    await runner.stop();
    for (const f of files) expect(readFileSync(join(dir, 'store', f.objectKey)).equals(readFileSync(f.sourcePath))).toBe(true);
    db.close();
  });
});
