// A proxy between the agent and RGW drops connections, delays, answers 503 SlowDown with
// Retry-After and resets connections in the middle of a part: everything still arrives intact.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, s3Env, writeS3Config } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { freshBucket, s3Config } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
import { checkDelivery, jobHistory, writeWorkload } from '../support/workload.js';

describe('faults between the agent and the store', () => {
  it('delivers everything intact through drops, delays, SlowDown and resets mid-part', async () => {
    const proxy = await startFaultProxy(s3Config().endpoint, { seed: 7, faultRate: 0.25 });
    try {
      const dir = tempDir('faults');
      const bucket = await freshBucket('faults');
      const MB = 1024 * 1024;
      const config = writeS3Config(dir, bucket, {
        store: { endpoint: proxy.endpoint, partSizeBytes: 5 * MB },
        queue: { concurrency: 3, retryBaseMs: 100, retryMaxMs: 1500 },
      });
      const w = writeWorkload(dir, { small: 60, large: 2, largeBytes: 30 * MB, day: '2024-09-01', seed: 31 });
      let runs = 0;
      let last;
      // --once gives each job a few attempts per run; a site's agent just keeps going.
      do {
        last = await runCli(['agent', '--config', config, '--once'], { env: s3Env() });
        runs++;
      } while (last.code !== 0 && runs < 8);
      expect(last.code, last.stdout + last.stderr).toBe(0);
      proxy.setFaultRate(0);
      const check = await checkDelivery(dir, config, bucket, w, s3Env());
      const jobs = jobHistory(join(dir, 'data'));
      const retries = jobs.reduce((n, j) => n + Math.max(0, j.attempts - 1), 0);
      console.log(`faults: files ${w.expected.size}, bytes ${w.bytes}, requests ${proxy.requests}, injected ${JSON.stringify(proxy.counts)}, ` +
        `agent runs ${runs}, retries ${retries}, duplicates found = ${check.extra.length}, corrupt = ${check.corrupt.length}`);
      expect(check).toEqual({ missing: [], extra: [], corrupt: [], openUploads: 0 });
      for (const fault of ['drop', 'delay', 'slowdown', 'reset-mid-body'] as const) expect(proxy.counts[fault], fault).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 300_000);
});
