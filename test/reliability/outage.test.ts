// The S3 server goes away mid-run and comes back: everything arrives, and while it was down the
// agent made a bounded number of attempts (one probe at a time, with backoff) instead of hammering.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { exited, runCli, spawnAgent, writeS3Config } from '../support/cli.js';
import { startRgw } from '../support/rgw.js';
import { tempDir } from '../support/tmp.js';
import { checkDelivery, progressMarker, writeWorkload } from '../support/workload.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('store outage', () => {
  it('waits for the store, probing with backoff, and delivers everything once it is back', async () => {
    const rgwDir = mkdtempSync(join(tmpdir(), 'medrelay-rgw-outage-'));
    const rgw = await startRgw(rgwDir);
    try {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey };
      const client = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
      await client.send(new CreateBucketCommand({ Bucket: 'outage' }));
      const dir = tempDir('outage');
      const MB = 1024 * 1024;
      const config = writeS3Config(dir, 'outage', {
        store: { endpoint: rgw.endpoint, partSizeBytes: 5 * MB },
        queue: { concurrency: 3, retryBaseMs: 200, retryMaxMs: 4000 },
      });
      const w = writeWorkload(dir, { small: 80, large: 2, largeBytes: 40 * MB, day: '2024-08-01', seed: 21 });
      const agent = spawnAgent(config, env);
      const dataDir = join(dir, 'data');
      const t0 = Date.now();
      while (progressMarker(dataDir) < 10 && Date.now() - t0 < 30_000) await sleep(50);
      await rgw.stopRgwOnly();
      const logBefore = agent.log().length;
      const downMs = 8000;
      await sleep(downMs);
      const whileDown = agent.log().slice(logBefore);
      await rgw.restartRgwOnly();
      const end = Date.now() + 120_000;
      while (Date.now() < end) {
        const s = JSON.parse((await runCli(['status', '--config', config, '--json'], { env })).stdout) as { counts: Record<string, number> };
        if (s.counts.done === w.expected.size) break;
        await sleep(500);
      }
      agent.kill('SIGTERM');
      expect(await exited(agent)).toBe(0);
      const failedAttempts = (whileDown.match(/job \d+ retry-wait: .*store unreachable/g) ?? []).length;
      const probes = (whileDown.match(/probe \d+: still unreachable/g) ?? []).length;
      const log = readFileSync(join(dataDir, 'logs/agent.log'), 'utf8');
      const check = await checkDelivery(dir, config, 'outage', w, env, client);
      console.log(`outage: files ${w.expected.size}, bytes ${w.bytes}, store down ${downMs} ms, failed uploads while down ${failedAttempts}, ` +
        `probes while down ${probes}, back online logged ${log.includes('reachable again')}, duplicates found = ${check.extra.length}, corrupt = ${check.corrupt.length}`);
      expect(check).toEqual({ missing: [], extra: [], corrupt: [], openUploads: 0 });
      expect(log).toContain('reachable again');
      // Only the uploads in flight when it went down fail; then one probe at a time, backing off.
      expect(failedAttempts).toBeLessThanOrEqual(3 * 2);
      expect(probes).toBeGreaterThanOrEqual(1);
      expect(probes).toBeLessThanOrEqual(8);
    } finally {
      await rgw.stop();
      rmSync(rgwDir, { recursive: true, force: true });
    }
  }, 300_000);
});
