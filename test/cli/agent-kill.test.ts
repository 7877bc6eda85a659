// Killing the agent with SIGKILL mid-run and starting it again delivers every file exactly once.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dicomHeader } from '../../src-main/core/demo/dicom-sample.js';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { exited, runCli, s3Env, spawnAgent, writeS3Config } from '../support/cli.js';
import { freshBucket, listAllKeys, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('medrelay agent killed mid-run', () => {
  it('delivers every file exactly once after SIGKILLs and restarts', async () => {
    const dir = tempDir('kill');
    const client = testS3Client();
    const bucket = await freshBucket('kill');
    const config = writeS3Config(dir, bucket, { store: { partSizeBytes: 5 * 1024 * 1024 } });
    const expected = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const name = `ECG_Report_20240701_10${String(Math.floor(i / 60)).padStart(2, '0')}${String(i % 60).padStart(2, '0')}.pdf`;
      const pdf = Buffer.concat([samplePdf(`report ${i}`)]);
      writeFileSync(join(dir, 'inbox/ecg', name), pdf);
      expected.set(`ecg-reports/2024/07/01/${name}`, createHash('sha256').update(pdf).digest('hex'));
    }
    for (let i = 0; i < 3; i++) {
      const uid = `1.2.826.0.1.3680043.10.1234.88.${i}`;
      const body = Buffer.concat([dicomHeader({ studyUid: uid, seriesUid: `${uid}.1`, sopUid: `${uid}.1.1`, studyDate: '20240701', pixelBytes: 20 * 1024 * 1024 }), Buffer.alloc(20 * 1024 * 1024, i + 1)]);
      writeFileSync(join(dir, `inbox/dicom/${i}.dcm`), body);
      expected.set(`dicom/2024/07/01/${uid}/${uid}.1/${uid}.1.1.dcm`, createHash('sha256').update(body).digest('hex'));
    }

    const doneCount = async () => (JSON.parse((await runCli(['status', '--config', config, '--json'], { env: s3Env() })).stdout) as { counts: { done: number } }).counts.done;
    let kills = 0;
    const doneAfterKill: number[] = [];
    for (const delay of [900, 1300, 1700]) {
      const agent = spawnAgent(config, s3Env());
      await sleep(delay);
      agent.kill('SIGKILL');
      await exited(agent);
      kills++;
      doneAfterKill.push(await doneCount());
    }
    // The kills really landed mid-run: some work was done, not all of it.
    expect(doneAfterKill.at(-1)).toBeGreaterThan(0);
    expect(doneAfterKill[0]).toBeLessThan(expected.size);
    const finish = await runCli(['agent', '--config', config, '--once'], { env: s3Env() });
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);

    const keys = await listAllKeys(client, bucket);
    expect(keys.sort()).toEqual([...expected.keys()].sort());
    // Byte-identical after `medrelay get` (which decrypts), four at a time.
    const entries = [...expected];
    for (let i = 0; i < entries.length; i += 4) {
      await Promise.all(entries.slice(i, i + 4).map(async ([key, sha], j) => {
        const out = join(dir, `back-${i + j}`);
        const got = await runCli(['get', '--config', config, '--key', key, '--out', out], { env: s3Env() });
        expect(got.code, got.stderr).toBe(0);
        expect(createHash('sha256').update(readFileSync(out)).digest('hex'), key).toBe(sha);
      }));
    }
    const status = JSON.parse((await runCli(['status', '--config', config, '--json'], { env: s3Env() })).stdout) as { counts: Record<string, number> };
    expect(status.counts).toMatchObject({ done: expected.size, queued: 0, uploading: 0, failed: 0, 'needs-attention': 0 });
    console.log(`kill test: ${expected.size} files, ${kills} SIGKILLs (done after each: ${doneAfterKill.join(', ')}), duplicates 0, corrupt 0`);
  });
});
