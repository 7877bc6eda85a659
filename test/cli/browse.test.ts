// The browsing commands as scripts and IT run them, against RGW: list (day, range, filters, the
// JSON contract), days, share and open-share, and the catalog answering while the store is away.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src-main/core/agent.js';
import { loadConfig } from '../../src-main/core/config/load.js';
import { buildEncryptKeyring, keyIdOf } from '../../src-main/core/crypto/keyrings.js';
import { writeSampleRecords } from '../../src-main/core/demo/samples.js';
import { runCli, s3Env, writeS3Config } from '../support/cli.js';
import { freshBucket } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

type Line = { key: string; kind: string; size: number; uploadedAt: string; record: string; patientId: string | null; patientName: string | null; modality: string | null; indexed: boolean };

describe('medrelay list, days, share and open-share', async () => {
  const dir = tempDir('cli-browse');
  const bucket = await freshBucket('cli-browse');
  const config = writeS3Config(dir, bucket, { store: { prefix: 'site-b' } });
  const files = await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 4, 2, 9, 30, 0));
  const env = s3Env();
  const once = await runCli(['agent', '--config', config, '--once'], { env });
  expect(once.code).toBe(0);
  // What the queue does once a job is committed (core/queue wires it): one index entry per file.
  Object.assign(process.env, env);
  const agent = new Agent(loadConfig(config), { secrets: null });
  agent.browsing.index.start({ keyring: await buildEncryptKeyring(agent.config.encryption, null), keyIds: agent.config.encryption.keyrings.map(keyIdOf) });
  for (const job of agent.jobs.withState('done')) await agent.browsing.index.recordDelivered(job);
  await agent.browsing.index.stop();
  agent.close();
  const list = async (...args: string[]) => {
    const r = await runCli(['list', '--config', config, '--json', ...args], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as unknown[];
  };

  it('lists a day as one JSON line per stored file with its record, patient fields and the old contract', async () => {
    const lines = await list('--date', '2024-05-02') as Line[];
    expect(lines).toHaveLength(files.length);
    for (const l of lines) expect(l).toMatchObject({ key: expect.stringMatching(/^site-b\//), kind: expect.any(String), size: expect.any(Number), uploadedAt: expect.any(String), indexed: true });
    const pkg = lines.filter((l) => l.kind === 'ecg-package');
    expect(new Set(pkg.map((l) => l.record)).size).toBe(1);
    expect(pkg[0]).toMatchObject({ patientId: 'DEMO-0001', patientName: 'Demo Patient' });
    expect(lines.filter((l) => l.kind === 'dicom').map((l) => [l.patientName, l.modality])).toEqual([['DEMO^PATIENT', 'OT'], ['DEMO^PATIENT', 'OT']]);
  });

  it('filters a date range by patient, kind and modality, and groups on request', async () => {
    const byPatient = await list('--from', '2024-05-01', '--to', '2024-05-31', '--patient', 'demo-0001') as Line[];
    expect(new Set(byPatient.map((l) => l.kind))).toEqual(new Set(['ecg-package', 'dicom']));
    const studies = await list('--from', '2024-05-01', '--to', '2024-05-31', '--kind', 'dicom', '--modality', 'OT', '--grouped') as { kind: string; files: unknown[]; series: unknown[] }[];
    expect(studies).toHaveLength(1);
    expect(studies[0]).toMatchObject({ kind: 'dicom', patientName: 'DEMO^PATIENT' });
    expect(studies[0]!.files).toHaveLength(2);
    expect(await list('--date', '2024-05-02', '--patient', 'nobody')).toEqual([]);
    const text = await runCli(['list', '--config', config, '--date', '2024-05-02', '--grouped'], { env });
    expect(text.stdout).toMatch(/ecg-package +DEMO-0001 Demo Patient {2}ECG package 20240502_093000 \(3 files\)/);
  });

  it('names the years, months and days that hold records', async () => {
    const days = async (...args: string[]) => JSON.parse((await runCli(['days', '--config', config, '--json', ...args], { env })).stdout) as { values: string[] };
    expect((await days()).values).toEqual(['2024']);
    expect((await days('--year', '2024')).values).toEqual(['2024-05']);
    expect((await days('--month', '2024-05')).values).toEqual(['2024-05-02']);
    expect((await runCli(['days', '--config', config, '--month', '2024-5'], { env })).code).toBe(2);
  });

  it('answers from the catalog with --offline when the store cannot be reached', async () => {
    const cfg = JSON.parse(readFileSync(config, 'utf8')) as { store: Record<string, unknown> };
    const away = join(dir, 'away.json');
    writeFileSync(away, JSON.stringify({ ...cfg, store: { ...cfg.store, endpoint: 'http://127.0.0.1:9' } }));
    const failed = await runCli(['list', '--config', away, '--date', '2024-05-02', '--json'], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/unreachable/);
    const cached = await runCli(['list', '--config', away, '--date', '2024-05-02', '--json', '--offline'], { env });
    expect(cached.code).toBe(0);
    expect(JSON.parse(cached.stdout)).toHaveLength(files.length);
  });

  it('shares a record with a password the recipient types into open-share', async () => {
    const key = 'site-b/ecg-reports/2024/05/02/ECG_Report_20240502_093000.pdf';
    const shared = await runCli(['share', '--config', config, '--key', key, '--expires', '2h', '--json'], { env });
    expect(shared.code).toBe(0);
    const link = JSON.parse(shared.stdout) as { url: string; password: string; mode: string };
    expect(link.mode).toBe('password-copy');
    const out = join(dir, 'from-link.pdf');
    const opened = await runCli(['open-share', '--url', link.url, '--out', out], { input: `${link.password}\n`, env: { PATH: process.env.PATH } });
    expect(opened.stdout).toContain('originally ECG_Report_20240502_093000.pdf');
    expect(readFileSync(out).equals(readFileSync(files.find((f) => f.endsWith('ECG_Report_20240502_093000.pdf') && !f.includes('/20240502_093000/'))!))).toBe(true);
    const tooLong = await runCli(['share', '--config', config, '--key', key, '--expires', '8d'], { env });
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/7 days/);
    expect((await runCli(['share', '--config', config, '--key', key], { env })).code).toBe(2);
  });

  it('refuses a range without both ends', async () => {
    const r = await runCli(['list', '--config', config, '--from', '2024-05-01'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from YYYY-MM-DD and --to YYYY-MM-DD go together');
  });
});
