// The queue on a real RGW bucket for the queue tests: a job repository on a real database, files
// written and queued, a runner with short backoffs, and requests counted by a middleware on the real
// client (writes go through the SDK, so the count covers them too).
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { JobEvent } from '../../../src-shared/api.js';
import { s3StoreSchema } from '../../../src-main/core/config/schema.js';
import { samplePdf } from '../../../src-main/core/demo/samples.js';
import { JobRepository, type Job } from '../../../src-main/core/queue/jobs.js';
import { QueueRunner, type RunnerOptions } from '../../../src-main/core/queue/runner.js';
import { S3Store } from '../../../src-main/core/store/s3.js';
import type { ObjectStore } from '../../../src-main/core/store/types.js';
import { tempDir } from '../../support/tmp.js';
import { countingClient, s3Site, type S3Site } from '../catalog/helpers.js';

export const MB = 1024 * 1024;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real S3 store with some of its methods replaced; the others (and `super`) are the real ones. */
export function wrap(store: ObjectStore, over: Partial<ObjectStore>): ObjectStore {
  return Object.assign(Object.create(store) as ObjectStore, over);
}

/** A gate that holds calls until opened. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { opened, open };
}

export interface Rig {
  site: S3Site;
  jobs: JobRepository;
  events: JobEvent[];
  /** Files written and queued; key = `<folder>/<name>`, folder under ecg-reports/2024/05/. */
  queue(keys: string[], bytes?: (i: number) => Buffer): Job[];
  runner(store?: ObjectStore, opts?: Partial<RunnerOptions>): QueueRunner;
  settled(expected: number): Promise<void>;
  /** A runner on `store` from zero counts until `expected` jobs settled, then stopped. */
  deliver(expected: number, store?: ObjectStore): Promise<void>;
}

export async function rig(label: string): Promise<Rig> {
  const dir = tempDir(label);
  const base = await s3Site(dir, 'ws-v');
  base.client.destroy();
  // The client the app makes (createS3Client): checksums only when required, as RGW needs for streamed parts.
  const counting = countingClient({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  // Writes through the SDK too (not s3-direct.ts), so that the middleware counts every request.
  const site: S3Site = { ...base, ...counting, store: new S3Store(counting.client, s3StoreSchema.parse(base.config.store), { direct: false }) };
  const jobs = new JobRepository(site.db);
  const events: JobEvent[] = [];
  const inbox = join(dir, 'inbox');
  let n = 0;
  const self: Rig = {
    site, jobs, events,
    queue(keys, bytes = (i) => samplePdf(`report ${label} ${i}`)) {
      return keys.map((k) => {
        const content = bytes(n++);
        const sourcePath = join(inbox, k);
        mkdirSync(join(sourcePath, '..'), { recursive: true });
        writeFileSync(sourcePath, content);
        const r = jobs.enqueue({
          sourcePath, size: content.length, mtimeMs: Math.trunc(statSync(sourcePath).mtimeMs),
          sha256: createHash('sha256').update(content).digest('hex'), kind: 'ecg-report', recordDate: '2024-05-01',
          objectKey: `ecg-reports/2024/05/${k}`, contentType: 'application/pdf',
        });
        return r.job;
      });
    },
    runner(store = site.store, opts = {}) {
      const runner = new QueueRunner(jobs, store, {
        concurrency: 8, workstationId: 'ws-v', spoolDir: join(dir, 'spool'), partSize: 5 * MB,
        baseMs: 20, maxMs: 200, stopGraceMs: 2000, verifyLingerMs: 60_000, ...opts,
      });
      runner.on('job', (e) => events.push(e));
      return runner;
    },
    async settled(expected) {
      await expect.poll(() => {
        const c = jobs.counts();
        return c.done + c['needs-attention'] + c.failed;
      }, { timeout: 60_000, interval: 50 }).toBe(expected);
    },
    async deliver(expected, store) {
      const runner = self.runner(store);
      site.reset();
      runner.start(site.encryption);
      await self.settled(expected);
      await runner.stop();
    },
  };
  return self;
}

export const statesOf = (events: JobEvent[], jobId: number) => events.filter((e) => e.jobId === jobId && e.state !== 'uploading').map((e) => e.state);

