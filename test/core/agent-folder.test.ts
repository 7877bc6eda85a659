// The whole headless pipeline on the folder store: samples in, objects out under the right keys.
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src-main/core/agent.js';
import { parseConfig } from '../../src-main/core/config/load.js';
import { sampleDicom } from '../../src-main/core/demo/dicom-sample.js';
import { samplePdf, writeSampleRecords } from '../../src-main/core/demo/samples.js';
import { makeKeyFile } from '../support/keys.js';
import { tempDir } from '../support/tmp.js';
import { decryptWithKeyFile } from '../../src-main/core/crypto/manage.js';
import { lookAt } from '../../src-main/core/watch/first-look.js';

function setup(label: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir(label);
  mkdirSync(join(dir, 'inbox/ecg'), { recursive: true });
  mkdirSync(join(dir, 'inbox/dicom'), { recursive: true });
  const key = makeKeyFile(dir);
  const config = parseConfig({
    dataDir: 'data', workstationId: 'ws-test', store: { type: 'folder', path: 'store' },
    encryption: { keyrings: [{ type: 'aes', ...key }] },
    watch: [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }],
    stability: { windowMs: 100, incompleteAfterMs: 100 },
    ...extra,
  }, dir);
  return { dir, config, key };
}

describe('Agent.runOnce with a folder store', () => {
  it('delivers each sample record under its own date and kind, and nothing twice', async () => {
    const { dir, config } = setup('agent-once');
    const at = new Date(2024, 2, 15, 10, 15, 0);
    const files = await writeSampleRecords(join(dir, 'inbox'), at);
    const agent = new Agent(config, { secrets: null });
    const first = await agent.runOnce();
    expect(first).toMatchObject({ scanned: files.length, enqueued: files.length, delivered: files.length, incomplete: [], rejected: [] });
    const records = await agent.listDay('2024-03-15');
    expect(records.map((r) => [r.kind, r.key.split('/').slice(4).join('/')])).toEqual(expect.arrayContaining([
      ['ecg-report', 'ECG_Report_20240315_101500.pdf'],
      ['ecg-report', 'ECG_Report_20240315_101500.json'],
      ['ecg-package', '20240315_101500/patient_details_20240315_101500.json'],
      ['ecg-signup', 'user_signup_demo_20240315_101500.json'],
    ]));
    expect(records.filter((r) => r.kind === 'dicom')).toHaveLength(2);
    expect(records).toHaveLength(files.length);
    for (const r of records) {
      expect(r.uploadedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      const stored = readFileSync(join(config.dataDir, '..', 'store', r.key));
      expect(stored.length).toBe(r.size);
      // Ciphertext: an AWS Encryption SDK v2 message (version byte 2, suite 0x0478).
      expect([...stored.subarray(0, 3)]).toEqual([0x02, 0x04, 0x78]);
    }
    const back = join(dir, 'back.pdf');
    await agent.records.save('ecg-reports/2024/03/15/ECG_Report_20240315_101500.pdf', back);
    expect(readFileSync(back).equals(readFileSync(files[0]!))).toBe(true);
    const second = await agent.runOnce();
    expect(second).toMatchObject({ enqueued: 0, alreadyKnown: files.length, delivered: 0 });
    agent.close();
  });

  it('takes the files of all its folders oldest first', async () => {
    const { dir, config } = setup('agent-order');
    mkdirSync(join(dir, 'inbox/ecg/ward-b'), { recursive: true });
    // Listed folder by folder (inbox/dicom, inbox/ecg, inbox/ecg/ward-b), written in another order.
    const written = [
      ['inbox/ecg/ward-b/ECG_Report_20240101_080000.pdf', 1],
      ['inbox/dicom/a.dcm', 2],
      ['inbox/ecg/ECG_Report_20240101_080200.pdf', 3],
      ['inbox/ecg/ward-b/ECG_Report_20240101_080300.pdf', 4],
      ['inbox/ecg/ECG_Report_20240101_080400.pdf', 5],
    ] as const;
    for (const [file, minute] of written) {
      const path = join(dir, file);
      writeFileSync(path, file.endsWith('.dcm')
        ? sampleDicom({ studyUid: '1.2.3', seriesUid: '1.2.3.4', sopUid: '1.2.3.4.9', studyDate: '20240101', pixelBytes: 1024 })
        : samplePdf(file));
      const at = new Date(2024, 0, 1, 8, minute);
      utimesSync(path, at, at);
    }
    const agent = new Agent(config, { secrets: null });
    expect((await agent.runOnce()).delivered).toBe(5);
    expect(agent.jobs.withState('done').sort((a, b) => a.id - b.id).map((j) => j.sourcePath)).toEqual(written.map(([file]) => join(dir, file)));
    agent.close();
  });

  it('counts the stability window from a first look taken before the agent was made', async () => {
    const { dir, config } = setup('agent-first-look', { stability: { windowMs: 60_000, incompleteAfterMs: 100 } });
    writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240102_080000.pdf'), samplePdf('a'));
    writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240102_090000.pdf'), samplePdf('b'));
    const look = await lookAt(config.watch);
    // Seen a minute ago: the window is over, so the pass takes both files without a minute of its own.
    const agent = new Agent(config, { secrets: null });
    expect(await agent.runOnce({ firstLook: { ...look, at: look.at - 60_000 } })).toMatchObject({ scanned: 2, enqueued: 2, delivered: 2 });
    agent.close();
  // Less than the window: a pass that waited a window of its own fails here.
  }, 30_000);

  it('waits a whole window for a file that changed after the first look, and uploads its new content', async () => {
    const { dir, config } = setup('agent-first-look-changed', { stability: { windowMs: 400, incompleteAfterMs: 100 } });
    const path = join(dir, 'inbox/ecg/ECG_Report_20240102_080000.pdf');
    writeFileSync(path, samplePdf('first'));
    const look = await lookAt(config.watch);
    writeFileSync(path, samplePdf('second, and longer'));
    const agent = new Agent(config, { secrets: null });
    const started = performance.now();
    expect((await agent.runOnce({ firstLook: { ...look, at: look.at - 60_000 } })).delivered).toBe(1);
    // A new window from the pass that saw the change (timers may fire up to a millisecond early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(399);
    const back = join(dir, 'back.pdf');
    await agent.records.save('ecg-reports/2024/01/02/ECG_Report_20240102_080000.pdf', back);
    expect(readFileSync(back).equals(samplePdf('second, and longer'))).toBe(true);
    agent.close();
  });

  it('reports a truncated DICOM and a PDF without %%EOF and does not upload them', async () => {
    const { dir, config } = setup('agent-incomplete');
    const whole = sampleDicom({ studyUid: '1.2.3', seriesUid: '1.2.3.4', sopUid: '1.2.3.4.5', studyDate: '20240101', pixelBytes: 4096 });
    writeFileSync(join(dir, 'inbox/dicom/cut.dcm'), whole.subarray(0, whole.length - 1000));
    const pdf = samplePdf('cut');
    writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240101_080000.pdf'), pdf.subarray(0, pdf.indexOf('%%EOF')));
    writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240101_090000.pdf'), pdf);
    const agent = new Agent(config, { secrets: null });
    const s = await agent.runOnce();
    expect(s.delivered).toBe(1);
    expect(s.incomplete.map((i) => i.file).sort()).toEqual([join(dir, 'inbox/dicom/cut.dcm'), join(dir, 'inbox/ecg/ECG_Report_20240101_080000.pdf')].sort());
    expect((await agent.listDay('2024-01-01')).map((r) => r.key)).toEqual(['ecg-reports/2024/01/01/ECG_Report_20240101_090000.pdf']);
    const status = agent.status();
    expect(status.incompleteFiles).toBe(2);
    expect(status.recentErrors.map((e) => e.file)).toContain(join(dir, 'inbox/dicom/cut.dcm'));
    agent.close();
  });

  it('hides file names behind opaque ids when the template says so, and gives the name back on read', async () => {
    const { dir, config, key } = setup('agent-opaque', { layout: { ecgSignup: 'ecg-reports/{yyyy}/{mm}/{dd}/{opaque}' } });
    const signup = join(dir, 'inbox/ecg/user_signup_jane_doe_20240315_101500.json');
    // Over several 1 MiB frames: the name header shifts every read off the frame boundaries.
    writeFileSync(signup, JSON.stringify({ createdAt: '2024-03-15T10:15:00', name: 'Jane Doe', note: 'x'.repeat(2_500_000) }));
    const agent = new Agent(config, { secrets: null });
    expect((await agent.runOnce()).delivered).toBe(1);
    const [record] = await agent.listDay('2024-03-15');
    expect(record!.key).toMatch(/^ecg-reports\/2024\/03\/15\/[0-9a-f]{32}\.json$/);
    expect(record!.key).not.toContain('jane');
    const stored = readFileSync(join(dir, 'store', record!.key));
    expect(stored.includes(Buffer.from('jane_doe'))).toBe(false);
    const back = join(dir, 'back.json');
    expect(await agent.records.save(record!.key, back)).toEqual({ originalName: 'user_signup_jane_doe_20240315_101500.json' });
    expect(readFileSync(back).equals(readFileSync(signup))).toBe(true);
    // The recovery path restores the name too, from the object and the key file alone.
    const offline = await decryptWithKeyFile(key.keyFile, join(dir, 'store', record!.key), join(dir, 'offline.json'));
    expect(offline.originalName).toBe('user_signup_jane_doe_20240315_101500.json');
    expect(readFileSync(join(dir, 'offline.json')).equals(readFileSync(signup))).toBe(true);
    agent.close();
    // A new agent on the same database computes the same id: a retry never makes a second object.
    const again = new Agent(config, { secrets: null });
    const ids = again.jobs.withState('done').map((j) => j.objectKey);
    expect(ids).toEqual([record!.key]);
    again.close();
  });

  it('stores records as they are only when sse-only is set explicitly, and warns about it in status', async () => {
    const { dir, config } = setup('agent-sse-only', { encryption: { mode: 'sse-only' } });
    writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240316_080000.pdf'), samplePdf('plain'));
    const agent = new Agent(config, { secrets: null });
    expect((await agent.runOnce()).delivered).toBe(1);
    expect(readFileSync(join(dir, 'store/ecg-reports/2024/03/16/ECG_Report_20240316_080000.pdf')).equals(samplePdf('plain'))).toBe(true);
    expect(agent.status().warnings).toEqual([expect.stringMatching(/sse-only.*without client-side encryption/)]);
    agent.close();
  });
});

describe('Agent watching its folders', () => {
  it('queues the backlog it finds at start-up, and when the queue refuses one file, says which and delivers the others', async () => {
    const { dir, config } = setup('agent-watch-refused');
    const names = Array.from({ length: 12 }, (_, i) => `ECG_Report_20240101_0800${String(i).padStart(2, '0')}.pdf`);
    for (const name of names) writeFileSync(join(dir, 'inbox/ecg', name), samplePdf(name));
    const errors: string[] = [];
    const agent = new Agent(config, { secrets: null, log: { info() {}, warn() {}, error: (m) => errors.push(m) } });
    // A real refusal by SQLite (as a full disk would give), for one file of the backlog only.
    agent.db.exec(`CREATE TRIGGER refuse_one BEFORE INSERT ON jobs WHEN NEW.source_path LIKE '%_080005.pdf'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);
    await agent.start();
    const deadline = Date.now() + 60_000;
    while (agent.jobs.withState('done').length < names.length - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await agent.stop();
    expect(agent.jobs.withState('done').map((j) => basename(j.sourcePath)).sort()).toEqual(names.filter((n) => !n.includes('_080005')));
    expect(errors).toEqual([`watcher: ${join(dir, 'inbox/ecg', names[5]!)} could not be queued: database or disk is full`]);
    agent.close();
  });
});
