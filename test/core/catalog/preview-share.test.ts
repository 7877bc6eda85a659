// Open, save and share records the agent really uploaded (encrypted with the site key) to RGW:
// preview bytes in memory, a decrypted copy where the user chose, and links that expire.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../../src-main/core/agent.js';
import { openShare, shareIdOf } from '../../../src-main/core/catalog/share.js';
import { loadConfig } from '../../../src-main/core/config/load.js';
import { writeSampleRecords } from '../../../src-main/core/demo/samples.js';
import { presignS3Get } from '../../../src-main/core/store/s3-listing.js';
import { s3Env, writeS3Config } from '../../support/cli.js';
import { freshBucket, testS3Client } from '../../support/s3.js';
import { tempDir } from '../../support/tmp.js';

// The agent's store reads its credentials from the environment (credentials.source "env").
Object.assign(process.env, s3Env());

async function uploaded(label: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir(label);
  const bucket = await freshBucket(label);
  const config = loadConfig(writeS3Config(dir, bucket, extra));
  const files = await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 4, 2, 9, 30, 0));
  // Larger than a part: it is uploaded, and shared, as a multipart upload.
  const big = join(dir, 'inbox/ecg/ECG_Report_20240502_093001.json');
  writeFileSync(big, JSON.stringify({ recordedAt: '2024-05-02T09:30:01Z', samples: 'x'.repeat(9 * 1024 * 1024) }));
  files.push(big);
  const agent = new Agent(config, { secrets: null });
  const once = await agent.runOnce();
  expect(once.delivered).toBe(files.length);
  const pdf = files.find((f) => f.endsWith('.pdf') && !f.includes('20240502_093000/'))!;
  return { dir, bucket, agent, pdf, big, pdfKey: 'ecg-reports/2024/05/02/ECG_Report_20240502_093000.pdf' };
}

describe('preview, save and share', async () => {
  const { dir, bucket, agent, pdf, big, pdfKey } = await uploaded('share', { store: { partSizeBytes: 5 * 1024 * 1024 } });

  it('gives the renderer the original bytes of an encrypted record, within a size limit', async () => {
    const r = await agent.api.previewRecord({ key: pdfKey });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ fileName: 'ECG_Report_20240502_093000.pdf', contentType: 'application/pdf', size: readFileSync(pdf).length });
    expect(Buffer.from(r.value.base64, 'base64').equals(readFileSync(pdf))).toBe(true);
    expect(await agent.api.previewRecord({ key: pdfKey, maxBytes: 100 })).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('save it instead') } });
    expect(await agent.api.previewRecord({ key: 'ecg-reports/2024/05/02/none.pdf' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('saves a decrypted copy to a new file, never over an existing one', async () => {
    const out = join(dir, 'saved.pdf');
    expect(await agent.api.saveRecord({ key: pdfKey, path: out })).toEqual({ ok: true, value: { path: out, originalName: null } });
    expect(readFileSync(out).equals(readFileSync(pdf))).toBe(true);
    expect(await agent.api.saveRecord({ key: pdfKey, path: out })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('shares an encrypted record as a copy under a one-time password that only opens with that password', async () => {
    const r = await agent.api.shareRecord({ key: pdfKey, expiresInSeconds: 3600 });
    if (!r.ok) expect.fail(r.error.message);
    if (!r.ok) return;
    const link = r.value;
    expect(link.mode).toBe('password-copy');
    expect(link.password).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
    expect(link.sharedKey).toMatch(/^shares\/[0-9a-f]{32}\.mrshare$/);
    expect(shareIdOf(link.url)).toBe(link.sharedKey.slice('shares/'.length, -'.mrshare'.length));
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    const stored = Buffer.from(await (await fetch(link.url)).arrayBuffer());
    expect(stored.includes(readFileSync(pdf).subarray(0, 64))).toBe(false);
    const out = join(dir, 'received.pdf');
    expect(await openShare(link.url, link.password!.toUpperCase(), out)).toEqual({ originalName: 'ECG_Report_20240502_093000.pdf' });
    expect(readFileSync(out).equals(readFileSync(pdf))).toBe(true);
    await expect(openShare(link.url, 'aaaa-bbbb-cccc-dddd-eeee-ffff', join(dir, 'wrong.pdf'))).rejects.toThrow(/does not open with this password/);
    expect(existsSync(join(dir, 'wrong.pdf'))).toBe(false);
  });

  it('shares a record larger than a part through a multipart upload of its copy', async () => {
    const r = await agent.api.shareRecord({ key: 'ecg-reports/2024/05/02/ECG_Report_20240502_093001.json', expiresInSeconds: 600 });
    if (!r.ok) expect.fail(r.error.message);
    const out = join(dir, 'big-received.json');
    await openShare(r.value.url, r.value.password!, out);
    expect(readFileSync(out).equals(readFileSync(big))).toBe(true);
  });

  it('refuses links beyond 7 days, and a link stops working when it expires', async () => {
    expect(await agent.api.shareRecord({ key: pdfKey, expiresInSeconds: 8 * 86400 })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await agent.api.shareRecord({ key: pdfKey, expiresInSeconds: 30 })).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    const client = testS3Client();
    const [shared] = ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "shares/" }))).Contents ?? []).map((o) => o.Key!);
    expect(shared).toBeDefined();
    const url = await presignS3Get(client, bucket, shared!, 1);
    expect((await fetch(url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(url)).status).toBe(403);
    await expect(openShare(url, 'aaaa', join(dir, 'late.pdf'))).rejects.toThrow(/expired/);
    client.destroy();
  });

  it('shares the object itself from an sse-only store, and nothing from a folder store', async () => {
    const sse = await uploaded('share-sse', { encryption: { mode: 'sse-only', keyrings: [] } });
    const r = await sse.agent.api.shareRecord({ key: sse.pdfKey, expiresInSeconds: 600 });
    expect(r).toMatchObject({ ok: true, value: { mode: 'direct', password: null, sharedKey: sse.pdfKey } });
    if (r.ok) expect(Buffer.from(await (await fetch(r.value.url)).arrayBuffer()).equals(readFileSync(sse.pdf))).toBe(true);
    sse.agent.close();
    const folderDir = tempDir('share-folder');
    writeFileSync(join(folderDir, 'medrelay.json'), JSON.stringify({ dataDir: 'data', store: { type: 'folder', path: 'store' }, encryption: { mode: 'sse-only', keyrings: [] }, watch: [{ path: '.', kind: 'ecg' }] }));
    const folderAgent = new Agent(loadConfig(join(folderDir, 'medrelay.json')), { secrets: null });
    expect(await folderAgent.api.shareRecord({ key: 'ecg-reports/2024/05/02/a.pdf', expiresInSeconds: 600 })).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringContaining('folder') } });
    folderAgent.close();
  });
});
