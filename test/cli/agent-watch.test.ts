// The running agent: files written slowly while it watches are taken only when whole.
import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dicomHeader } from '../../src-main/core/demo/dicom-sample.js';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { exited, runCli, s3Env, spawnAgent, writeS3Config } from '../support/cli.js';
import { freshBucket, listRecordKeys, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function sha256Of(body: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of body) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('medrelay agent watching folders', () => {
  it('uploads a 50 MB DICOM written in chunks with long pauses once, whole', async () => {
    const dir = tempDir('watch-50mb');
    const client = testS3Client();
    const bucket = await freshBucket('watch');
    // Window 300 ms; the writer pauses 900 ms between chunks, so the half-written file is stable
    // for longer than the window several times and must be held back by the DICOM check.
    const config = writeS3Config(dir, bucket, { store: { partSizeBytes: 8 * 1024 * 1024 } });
    const agent = spawnAgent(config, s3Env());
    try {
      await until('agent start', async () => agent.log().includes('watching'));
      const pixelBytes = 50 * 1024 * 1024;
      const study = '1.2.826.0.1.3680043.10.1234.77';
      const header = dicomHeader({ studyUid: study, seriesUid: `${study}.1`, sopUid: `${study}.1.1`, studyDate: '20240610', pixelBytes });
      const file = join(dir, 'inbox/dicom/series.dcm');
      const whole = createHash('sha256');
      writeFileSync(file, header);
      whole.update(header);
      const chunk = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < 5; i++) {
        chunk.fill(i + 1);
        appendFileSync(file, chunk);
        whole.update(chunk);
        await sleep(900);
      }
      // Meanwhile a PDF that stops before its end stays out of the store.
      const pdf = samplePdf('half');
      writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240610_120000.pdf'), pdf.subarray(0, 200));

      const key = `dicom/2024/06/10/${study}/${study}.1/${study}.1.1.dcm`;
      await until('the DICOM object', async () => (await listRecordKeys(client, bucket)).includes(key));
      const back = join(dir, 'back.dcm');
      const get = await runCli(['get', '--config', config, '--key', key, '--out', back], { env: s3Env() });
      expect(get.code, get.stderr).toBe(0);
      expect(statSync(back).size).toBe(header.length + pixelBytes);
      expect(await sha256Of(createReadStream(back))).toBe(whole.digest('hex'));
      await sleep(1500);
      expect(await listRecordKeys(client, bucket)).toEqual([key]);
    } finally {
      agent.kill('SIGTERM');
      expect(await exited(agent)).toBe(0);
    }
    const status = JSON.parse((await runCli(['status', '--config', config, '--json'], { env: s3Env() })).stdout) as { counts: Record<string, number>; incompleteFiles: number };
    expect(status.counts.done).toBe(1);
    expect(status.incompleteFiles).toBe(1);
    expect(readFileSync(join(dir, 'data/logs/agent.log'), 'utf8')).toContain('ECG_Report_20240610_120000.pdf is still incomplete');
  });
});
