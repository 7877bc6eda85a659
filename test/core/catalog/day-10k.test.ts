// A busy day against a real S3 server: 10,000 stored files from two workstations (ECG reports
// with sidecars, packages and signups on one; DICOM studies on the other) and 20 files another tool
// uploaded without an index entry. The reading station lists every one, groups them, reads only
// index objects (packs instead of the small objects they cover; never a record), re-opens the day from SQLite, and sees a new record after a
// refresh. Objects and index entries are written straight to the store in parallel, as the
// queue would, to keep the test short.
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/core/catalog/catalog.js';
import { buildDecryptKeyring } from '../../../src-main/core/crypto/keyrings.js';
import type { IndexEntry } from '../../../src-main/core/catalog/entry.js';
import { IndexWriter } from '../../../src-main/core/catalog/index-writer.js';
import { mapLimit } from '../../../src-main/core/catalog/pool.js';
import { tempDir } from '../../support/tmp.js';
import { putObject, s3Site, sha } from './helpers.js';

const DATE = '2024-06-03';
const E = 'ecg-reports/2024/06/03';
const D = 'dicom/2024/06/03';
const REPORTS = 1000;
const PACKAGES = 800;
const SIGNUPS = 600;
const STUDIES = 50;
const SERIES = 4;
const INSTANCES = 25;
const FOREIGN = 20;

function hhmmss(i: number): string {
  const s = 6 * 3600 + i * 3;
  return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join('');
}

type File = { key: string; entry: Omit<IndexEntry, 'workstation' | 'uploadedAt' | 'sha256' | 'size'> };

function ecgFiles(): File[] {
  const out: File[] = [];
  const patient = (i: number) => ({ patientId: `P${String(i % 300).padStart(4, '0')}`, patientName: `PATIENT^${i % 300}` });
  for (let i = 0; i < REPORTS; i++) {
    const t = `20240603_${hhmmss(i)}`;
    for (const ext of ['pdf', 'json']) out.push({ key: `${E}/ECG_Report_${t}.${ext}`, entry: { key: `${E}/ECG_Report_${t}.${ext}`, kind: 'ecg-report', date: DATE, fileName: `ECG_Report_${t}.${ext}`, ...patient(i) } });
  }
  for (let i = 0; i < PACKAGES; i++) {
    const t = `20240603_${hhmmss(REPORTS + i)}`;
    for (const name of [`ECG_Report_${t}.pdf`, `patient_details_${t}.json`, `ecg_data_${t}.json`]) {
      out.push({ key: `${E}/${t}/${name}`, entry: { key: `${E}/${t}/${name}`, kind: 'ecg-package', date: DATE, fileName: name, packageName: t, ...patient(REPORTS + i) } });
    }
  }
  for (let i = 0; i < SIGNUPS; i++) {
    const name = `user_signup_${1717390800 + i}.json`;
    out.push({ key: `${E}/${name}`, entry: { key: `${E}/${name}`, kind: 'ecg-signup', date: DATE, fileName: name } });
  }
  return out;
}

function dicomFiles(): File[] {
  const out: File[] = [];
  for (let s = 0; s < STUDIES; s++) {
    const study = `1.2.826.0.1.9.${s}`;
    for (let k = 1; k <= SERIES; k++) {
      for (let i = 1; i <= INSTANCES; i++) {
        const key = `${D}/${study}/${study}.${k}/${study}.${k}.${i}.dcm`;
        out.push({ key, entry: { key, kind: 'dicom', date: DATE, fileName: `IM${k}_${i}.dcm`, patientId: `D${s}`, patientName: `DICOM^PATIENT^${s}`, modality: k === 4 ? 'SR' : 'CT', studyDescription: `STUDY ${s}`, studyUid: study, seriesUid: `${study}.${k}`, sopUid: `${study}.${k}.${i}` } });
      }
    }
  }
  return out;
}

describe(`a day of ${REPORTS * 2 + PACKAGES * 3 + SIGNUPS + STUDIES * SERIES * INSTANCES} files from two workstations`, async () => {
  const dir = tempDir('day-10k');
  const a = await s3Site(dir, 'ws-a');
  const b = await s3Site(dir, 'ws-b', { bucket: a.bucket });
  const r = await s3Site(dir, 'reader', { bucket: a.bucket });
  const ecg = ecgFiles();
  const dicom = dicomFiles();
  expect(ecg.length + dicom.length).toBe(10_000);
  const started = performance.now();
  const foreign = Array.from({ length: FOREIGN }, (_, i) => `${E}/ECG_Report_20240603_23${String(i).padStart(4, '0')}.pdf`);
  await mapLimit([...ecg.map((f) => [a, f.key] as const), ...dicom.map((f) => [b, f.key] as const), ...foreign.map((k) => [a, k] as const)], 48,
    ([site, key]) => putObject(site.client, site.bucket, key, { 'medrelay-kind': 'x', 'medrelay-workstation': site.config.workstationId }));
  // ws-a's carts trickle (one entry per index object, the worst case); ws-b's modality sends studies in bursts.
  const writers = [[a, ecg, 1], [b, dicom, 500]] as const;
  let n = 0;
  for (const [site, files, maxEntries] of writers) {
    const w = new IndexWriter(site.db, site.store, { workstationId: site.config.workstationId, prefix: '', maxEntries, concurrency: 16 });
    site.db.transaction(() => {
      for (const f of files) w.enqueue({ ...f.entry, size: 1000 + n, sha256: sha(n++), uploadedAt: `${DATE}T20:00:00.000Z`, workstation: site.config.workstationId });
    })();
    w.start(site.encryption);
    await w.flush();
    await w.stop();
  }
  const indexObjects = ecg.length + dicom.length / 500;
  // ws-a's 5,000 small objects are repeated in packs of at most 256; a reader fetches the packs.
  const packs = Math.ceil(ecg.length / 256);
  const fetched = packs + dicom.length / 500;
  const writeSeconds = (performance.now() - started) / 1000;
  const catalog = new Catalog(r.db, r.store, { layout: r.config.layout, prefix: '', encryption: r.config.encryption, decryptKeys: () => buildDecryptKeyring(r.config.encryption, null), concurrency: 32 });

  it('lists every file, groups them, and reads only the index objects', async () => {
    r.reset();
    const t0 = performance.now();
    const page = await catalog.openDay(DATE, { limit: 100_000 });
    const coldMs = performance.now() - t0;
    expect(page.files).toBe(10_000 + FOREIGN);
    expect(page.total).toBe(REPORTS + PACKAGES + SIGNUPS + STUDIES + FOREIGN);
    expect(r.counts.GetObjectCommand).toBe(fetched);
    expect(r.counts.HeadObjectCommand).toBe(FOREIGN);
    const count = (kind: string, files: number) => page.records.filter((x) => x.kind === kind && x.files.length === files).length;
    expect(count('ecg-report', 2)).toBe(REPORTS);
    expect(count('ecg-report', 1)).toBe(FOREIGN);
    expect(count('ecg-package', 3)).toBe(PACKAGES);
    expect(count('ecg-signup', 1)).toBe(SIGNUPS);
    const studies = page.records.filter((x) => x.kind === 'dicom');
    expect(studies).toHaveLength(STUDIES);
    for (const s of studies) {
      expect(s.series.map((x) => [x.modality, x.instances])).toEqual([['CT', INSTANCES], ['CT', INSTANCES], ['CT', INSTANCES], ['SR', INSTANCES]]);
      expect(s.patientId).toBe(`D${s.title.slice('STUDY '.length)}`);
    }
    expect(page.records.filter((x) => x.indexed)).toHaveLength(REPORTS + PACKAGES + SIGNUPS + STUDIES);
    expect(page.records.find((x) => x.id === `package:${E}/20240603_${hhmmss(REPORTS + 7)}`)).toMatchObject({ patientId: 'P0107', patientName: 'PATIENT^107' });
    console.log(`[day-10k] wrote 10,000 files + ${indexObjects} index objects + ${packs} packs in ${writeSeconds.toFixed(1)} s; cold open ${Math.round(coldMs)} ms, requests ${JSON.stringify(r.counts)}`);
  });

  it('re-opens the day from SQLite without a request, and pages through it without losing a record', async () => {
    r.reset();
    const t0 = performance.now();
    const first = await catalog.openDay(DATE, { limit: 1000 });
    const warmMs = performance.now() - t0;
    expect(first.source).toBe('catalog');
    expect(r.counts).toEqual({});
    const ids = new Set(first.records.map((x) => x.id));
    for (let offset = 1000; offset < first.total; offset += 1000) {
      for (const x of (await catalog.openDay(DATE, { offset, limit: 1000 })).records) ids.add(x.id);
    }
    expect(ids.size).toBe(first.total);
    console.log(`[day-10k] warm re-open ${Math.round(warmMs)} ms`);
  });

  it('shows a record another workstation added after a refresh, reading one index object', async () => {
    const key = `${D}/1.2.826.0.1.9.999/1.2.826.0.1.9.999.1/1.2.826.0.1.9.999.1.1.dcm`;
    await putObject(b.client, b.bucket, key);
    const w = new IndexWriter(b.db, b.store, { workstationId: 'ws-b', prefix: '' });
    w.start(b.encryption);
    w.enqueue({ key, kind: 'dicom', date: DATE, fileName: 'IM.dcm', size: 1, sha256: sha(1), uploadedAt: `${DATE}T21:00:00.000Z`, workstation: 'ws-b', patientId: 'NEW-1', modality: 'MR', studyUid: '1.2.826.0.1.9.999', seriesUid: '1.2.826.0.1.9.999.1' });
    await w.stop();
    r.reset();
    const page = await catalog.openDay(DATE, { refresh: true, limit: 100_000 });
    expect(page.total).toBe(REPORTS + PACKAGES + SIGNUPS + STUDIES + FOREIGN + 1);
    expect(r.counts.GetObjectCommand).toBe(1);
    expect(r.counts.HeadObjectCommand ?? 0).toBe(0);
    expect(page.records.find((x) => x.patientId === 'NEW-1')).toMatchObject({ kind: 'dicom', modalities: ['MR'] });
  });
});
