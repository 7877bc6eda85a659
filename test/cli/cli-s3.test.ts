// The CLI contract against a real S3 server: agent --once, status --json, list --json, get.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSampleRecords } from '../../src-main/core/demo/samples.js';
import { runCli, s3Env, writeS3Config } from '../support/cli.js';
import { freshBucket, listRecordKeys, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
import { HeadObjectCommand } from '@aws-sdk/client-s3';

describe.each(['when-required', 'when-supported'] as const)('medrelay CLI on S3 (checksum %s)', (checksum) => {
  it('delivers every sample once, lists the day and gets the original bytes back', async () => {
    const dir = tempDir('cli-s3');
    const client = testS3Client();
    const bucket = await freshBucket('cli');
    const config = writeS3Config(dir, bucket, { store: { prefix: 'site-a', checksum, partSizeBytes: 5 * 1024 * 1024 } });
    const files = await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 4, 2, 9, 30, 0));
    // One file above the multipart threshold, so both upload paths run.
    const big = join(dir, 'inbox/ecg/ECG_Report_20240502_093001.json');
    writeFileSync(big, JSON.stringify({ recordedAt: '2024-05-02T09:30:01Z', samples: 'x'.repeat(12 * 1024 * 1024) }));
    files.push(big);

    const once = await runCli(['agent', '--config', config, '--once'], { env: s3Env() });
    expect(once.stderr).not.toMatch(/error/i);
    expect(once.code).toBe(0);
    expect(once.stdout).toContain(`${files.length} delivered now`);

    const keys = await listRecordKeys(client, bucket);
    expect(keys).toHaveLength(files.length);
    expect(keys.every((k) => k.startsWith('site-a/'))).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'site-a/ecg-reports/2024/05/02/ECG_Report_20240502_093000.pdf' }));
    expect(head.Metadata).toMatchObject({ 'medrelay-kind': 'ecg-report', 'medrelay-workstation': 'ws-test' });

    const status = await runCli(['status', '--config', config, '--json'], { env: s3Env() });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { counts: Record<string, number> };
    expect(s.counts).toMatchObject({ queued: 0, uploading: 0, done: files.length, failed: 0 });

    const list = await runCli(['list', '--config', config, '--date', '2024-05-02', '--json'], { env: s3Env() });
    expect(list.code).toBe(0);
    const records = JSON.parse(list.stdout) as { key: string; kind: string; size: number; uploadedAt: string }[];
    expect(records).toHaveLength(files.length);
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(['ecg-report', 'ecg-package', 'ecg-signup', 'dicom']));

    const bigRecord = records.find((r) => r.key.endsWith('ECG_Report_20240502_093001.json'))!;
    const out = join(dir, 'back.json');
    const get = await runCli(['get', '--config', config, '--key', bigRecord.key, '--out', out], { env: s3Env() });
    expect(get.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(big))).toBe(true);

    const again = await runCli(['agent', '--config', config, '--once'], { env: s3Env() });
    expect(again.code).toBe(0);
    expect(await listRecordKeys(client, bucket)).toHaveLength(files.length);
  });
});

describe('medrelay CLI errors', () => {
  it('exits 2 and names the setting for a bad config', async () => {
    const dir = tempDir('cli-bad');
    const config = join(dir, 'medrelay.json');
    writeFileSync(config, JSON.stringify({ dataDir: 'd', store: { type: 's3', bucket: 'ok-bucket', region: 'x' }, watch: [{ path: 'in', kind: 'xray' }] }));
    const r = await runCli(['agent', '--config', config, '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('setting "watch[0].kind" is "xray"');
  });

  it('exits 2 for unknown commands and missing options', async () => {
    expect((await runCli(['fly'])).code).toBe(2);
    expect((await runCli(['list', '--config', 'x.json'])).stderr).toContain('--date YYYY-MM-DD is required');
  });

  it('parks a job for a person when the credentials are refused, and exits 1', async () => {
    const dir = tempDir('cli-auth');
    const bucket = await freshBucket('auth');
    const config = writeS3Config(dir, bucket);
    await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 4, 3, 9, 0, 0));
    const r = await runCli(['agent', '--config', config, '--once'], { env: { ...s3Env(), AWS_SECRET_ACCESS_KEY: 'wrong-secret-wrong-secret-wrong-secret00' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/needs attention/);
    expect(r.stdout).toMatch(/access refused .*check the credentials/);
    const s = JSON.parse((await runCli(['status', '--config', config, '--json'], { env: s3Env() })).stdout) as { counts: Record<string, number>; recentErrors: { code: string }[] };
    expect(s.counts['needs-attention']).toBeGreaterThan(0);
    expect(s.counts['retry-wait']).toBe(0);
    expect(s.recentErrors[0]!.code).toBe('auth');
  });

  it('applies the IT policy: its settings win and show as locked; an invalid policy stops with exit 2', async () => {
    const dir = tempDir('cli-policy');
    const bucket = await freshBucket('policy');
    const config = writeS3Config(dir, bucket, { queue: { concurrency: 4 } });
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ queue: { concurrency: 2 } }));
    const status = await runCli(['status', '--config', config, '--policy', policy, '--json'], { env: s3Env() });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { policy: unknown }).policy).toEqual({ path: policy, locked: ['queue.concurrency'] });
    writeFileSync(policy, JSON.stringify({ queue: { concurrency: 'many' } }));
    const bad = await runCli(['agent', '--config', config, '--policy', policy, '--once'], { env: s3Env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(policy);
    expect(bad.stderr).toContain('queue.concurrency');
  });
});
