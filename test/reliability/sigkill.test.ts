// SIGKILL the agent at random moments while it uploads a mixed workload, then let it finish:
// every file in the store exactly once, byte-identical, no multipart upload left open, and at
// least one large file resumed from its parts rather than restarted.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, runCli, s3Env, spawnAgent, writeS3Config } from '../support/cli.js';
import { freshBucket } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
import { checkDelivery, jobHistory, progressMarker, writeWorkload } from '../support/workload.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent killed with SIGKILL again and again', () => {
  it('delivers every record exactly once and resumes large uploads from their parts', async () => {
    const dir = tempDir('sigkill');
    const bucket = await freshBucket('sigkill');
    const MB = 1024 * 1024;
    const config = writeS3Config(dir, bucket, {
      store: { partSizeBytes: 5 * MB, partsInFlight: 2 },
      queue: { concurrency: 3, retryBaseMs: 100, retryMaxMs: 1000, staleUploadAfterMs: 3_600_000 },
    });
    const w = writeWorkload(dir, { small: 150, large: 6, largeBytes: 64 * MB, day: '2024-07-01', seed: 11 });
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dataDir = join(dir, 'data');
    let kills = 0;
    const progress: string[] = [];
    // At least 20 kills; more, up to 40, while no large upload has yet been resumed from its parts (a
    // slow or busy machine reaches the large files, which come after the small ones, later).
    for (let round = 0; round < 40; round++) {
      const before = progressMarker(dataDir);
      const agent = spawnAgent(config, s3Env());
      // Kill once this run has got something into the store (an object or a part), at a random moment after.
      const started = Date.now();
      while (Date.now() - started < 20_000 && progressMarker(dataDir) === before) await sleep(50);
      await sleep(Math.floor(random() * 250));
      agent.kill('SIGKILL');
      await exited(agent);
      kills++;
      const jobs = jobHistory(dataDir);
      progress.push(`${jobs.filter((j) => j.state === 'done').length}/${w.expected.size}`);
      if (jobs.length === w.expected.size && jobs.every((j) => j.state === 'done')) break;
      if (kills >= 20 && jobs.some((j) => j.resumedParts > 0)) break;
    }
    const finish = await runCli(['agent', '--config', config, '--once'], { env: s3Env() });
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);

    const check = await checkDelivery(dir, config, bucket, w, s3Env());
    const jobs = jobHistory(dataDir);
    const resumed = jobs.filter((j) => j.resumedParts > 0);
    const retries = jobs.reduce((n, j) => n + Math.max(0, j.attempts - 1), 0);
    console.log(`sigkill: files ${w.expected.size}, bytes ${w.bytes}, kills ${kills} (done after each: ${progress.join(' ')}), ` +
      `retries ${retries}, large uploads resumed from parts ${resumed.length} (${resumed.map((j) => j.resumedParts).join('+')} parts), ` +
      `duplicates found = ${check.extra.length}, corrupt = ${check.corrupt.length}, missing = ${check.missing.length}, open multipart uploads = ${check.openUploads}` +
      (check.corrupt.length ? `\n${check.corrupt.join('\n')}` : ''));
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(check).toEqual({ missing: [], extra: [], corrupt: [], openUploads: 0 });
    expect(jobs.every((j) => j.state === 'done')).toBe(true);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
  }, 900_000);
});
