// The delivery rules a person relies on: a key another workstation already wrote is a conflict
// that names both, a vanished file is reported once (not retried forever), and a retention
// action touches the source only after the record is verified in the store.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src-main/core/agent.js';
import { loadConfig } from '../../src-main/core/config/load.js';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { runCli, s3Env, writeS3Config } from '../support/cli.js';
import { freshBucket } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

describe('delivery rules', () => {
  it('raises a conflict naming both records when another workstation wrote the key with other content', async () => {
    const bucket = await freshBucket('conflict');
    const a = tempDir('ws-a');
    const b = tempDir('ws-b');
    const cfgA = writeS3Config(a, bucket, { workstationId: 'ws-a' });
    const cfgB = writeS3Config(b, bucket, { workstationId: 'ws-b' });
    const name = 'ECG_Report_20241001_090000.pdf';
    writeFileSync(join(a, 'inbox/ecg', name), samplePdf('first'));
    writeFileSync(join(b, 'inbox/ecg', name), samplePdf('second, other content'));
    expect((await runCli(['agent', '--config', cfgA, '--once'], { env: s3Env() })).code).toBe(0);
    const second = await runCli(['agent', '--config', cfgB, '--once'], { env: s3Env() });
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(join(b, 'inbox/ecg', name));
    expect(second.stdout).toMatch(/already holds another record \(written by ws-a\/1\)/);
    const status = JSON.parse((await runCli(['status', '--config', cfgB, '--json'], { env: s3Env() })).stdout) as { counts: Record<string, number>; recentErrors: { code: string }[] };
    expect(status.counts['needs-attention']).toBe(1);
    expect(status.recentErrors[0]!.code).toBe('conflict');
    // The first record is untouched.
    const back = join(a, 'back.pdf');
    expect((await runCli(['get', '--config', cfgA, '--key', `ecg-reports/2024/10/01/${name}`, '--out', back], { env: s3Env() })).code).toBe(0);
    expect(readFileSync(back).equals(samplePdf('first'))).toBe(true);
  });

  it('reports a file that vanished before upload once, and archives verified sources only', async () => {
    const dir = tempDir('retention');
    const bucket = await freshBucket('retention');
    const cfg = writeS3Config(dir, bucket, { retention: { action: 'archive', afterDays: 0, archiveDir: 'archive' } });
    const kept = join(dir, 'inbox/ecg/ECG_Report_20241002_090000.pdf');
    const gone = join(dir, 'inbox/ecg/ECG_Report_20241002_091500.pdf');
    writeFileSync(kept, samplePdf('kept'));
    writeFileSync(gone, samplePdf('gone'));
    const config = loadConfig(cfg);
    const env = s3Env();
    process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
    const agent = new Agent(config, { secrets: null });
    // Queue both, then remove one before the queue runs: the upload must report it, not loop.
    agent.queue.pause();
    const run = agent.runOnce();
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(gone);
    agent.queue.resume();
    const summary = await run;
    expect(summary.needsAttention.map((n) => n.file)).toEqual([gone]);
    expect(summary.needsAttention[0]!.reason).toMatch(/vanished before it was uploaded/);
    expect(agent.jobs.withState('needs-attention')[0]!.attempts).toBe(1);
    expect(summary.retained).toBe(1);
    expect(existsSync(kept)).toBe(false);
    expect(readFileSync(join(dir, 'archive/ECG_Report_20241002_090000.pdf')).equals(samplePdf('kept'))).toBe(true);
    agent.close();
  });
});
