// Browsing a day against a real S3 server: two workstations upload and write the encrypted day
// index, a reading station lists, groups, searches and re-opens from its catalog.
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { RecordKind } from '../../../src-shared/keys.js';
import { Catalog } from '../../../src-main/core/catalog/catalog.js';
import { buildDecryptKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { indexDayPrefix, type IndexEntry } from '../../../src-main/core/catalog/entry.js';
import { IndexWriter } from '../../../src-main/core/catalog/index-writer.js';
import { S3Store } from '../../../src-main/core/store/s3.js';
import { s3StoreSchema } from '../../../src-main/core/config/schema.js';
import { listAllKeys, testS3Client } from '../../support/s3.js';
import { tempDir } from '../../support/tmp.js';
import { putObject, s3Site, sha, type S3Site } from './helpers.js';

const dir = tempDir('catalog');

type Upload = { key: string; kind: RecordKind; date: string; fileName?: string } & Partial<IndexEntry>;

/** What the queue does for one file: the object (with its cleartext metadata), then its index entry. */
async function deliver(site: S3Site, writer: IndexWriter, u: Upload, n: number): Promise<void> {
  const ws = site.config.workstationId;
  await putObject(site.client, site.bucket, u.key, { 'medrelay-kind': u.kind, 'medrelay-workstation': ws, 'medrelay-format': 'esdk2' });
  const { key, kind, date, fileName, ...fields } = u;
  writer.enqueue({
    key, kind, date, fileName: fileName ?? key.slice(key.lastIndexOf('/') + 1), size: 100 + n, sha256: sha(n),
    uploadedAt: `${date}T12:00:00.000Z`, workstation: ws, ...fields,
  });
}

function reader(site: S3Site, extra: Partial<ConstructorParameters<typeof Catalog>[2]> = {}): Catalog {
  return new Catalog(site.db, site.store, { layout: site.config.layout, prefix: site.config.store.prefix, encryption: site.config.encryption, decryptKeys: () => buildDecryptKeyring(site.config.encryption, null), ...extra });
}

const D = 'ecg-reports/2024/03/15';
const ecgUploads: Upload[] = [
  { key: `${D}/ECG_Report_20240315_101500.pdf`, kind: 'ecg-report', date: '2024-03-15', patientId: 'MRN-1', patientName: 'Doe^Jane' },
  { key: `${D}/ECG_Report_20240315_101500.json`, kind: 'ecg-report', date: '2024-03-15', patientId: 'MRN-1', patientName: 'Doe^Jane', acquiredAt: '2024-03-15T10:15:00' },
  { key: `${D}/20240315_111500/ECG_Report_20240315_111500.pdf`, kind: 'ecg-package', date: '2024-03-15' },
  { key: `${D}/20240315_111500/patient_details_20240315_111500.json`, kind: 'ecg-package', date: '2024-03-15', patientId: 'MRN-2', patientName: 'Émile Zola' },
  { key: `${D}/20240315_111500/ecg_data_20240315_111500.json`, kind: 'ecg-package', date: '2024-03-15' },
];
const S = 'dicom/2024/03/15/1.2.840.1';
const dicomUploads: Upload[] = [1, 2, 3].map((i) => ({
  key: `${S}/1.2.840.1.${i < 3 ? 1 : 2}/1.2.840.1.${i < 3 ? 1 : 2}.${i}.dcm`, kind: 'dicom' as const, date: '2024-03-15', patientId: 'MRN-3', patientName: 'ROE^RICHARD',
  modality: i < 3 ? 'CT' : 'SR', studyDescription: 'CT CHEST', studyUid: '1.2.840.1', seriesUid: `1.2.840.1.${i < 3 ? 1 : 2}`,
}));

describe('the catalog on S3', async () => {
  const a = await s3Site(dir, 'ws-a');
  const b = await s3Site(dir, 'ws-b', { bucket: a.bucket });
  const r = await s3Site(dir, 'reader', { bucket: a.bucket });
  // Index objects are written only by the tests' own flush() calls, which count them: the writer's
  // timed flush (1 s after an entry) would split a batch whenever delivering took longer than that.
  const wa = new IndexWriter(a.db, a.store, { workstationId: 'ws-a', prefix: '', batchDelayMs: 3600_000 });
  const wb = new IndexWriter(b.db, b.store, { workstationId: 'ws-b', prefix: '', batchDelayMs: 3600_000 });
  wa.start(a.encryption);
  wb.start(b.encryption);
  let n = 0;
  for (const u of ecgUploads) await deliver(a, wa, u, n++);
  for (const u of dicomUploads) await deliver(b, wb, u, n++);
  // A record some other tool uploaded: no index entry, no MedRelay metadata.
  await putObject(a.client, a.bucket, `${D}/ECG_Report_20240315_130000.pdf`);
  expect(await wa.flush()).toBe(1);
  expect(await wb.flush()).toBe(1);
  const catalog = reader(r);

  it('groups the day from the decrypted index, reading only index objects, and shows un-indexed records by their key', async () => {
    r.reset();
    const page = await catalog.openDay('2024-03-15');
    expect(page).toMatchObject({ source: 'store', total: 4, files: 9, unreadableIndex: 0, offline: null });
    expect(r.counts.GetObjectCommand).toBe(2);
    expect(r.counts.HeadObjectCommand).toBe(1);
    const byId = new Map(page.records.map((x) => [x.id, x]));
    expect(byId.get(`report:${D}/ECG_Report_20240315_101500`)).toMatchObject({ patientId: 'MRN-1', patientName: 'Doe^Jane', indexed: true, acquiredAt: '2024-03-15T10:15:00', workstations: ['ws-a'] });
    expect(byId.get(`package:${D}/20240315_111500`)).toMatchObject({ patientId: 'MRN-2', title: 'ECG package 20240315_111500' });
    expect(byId.get('study:2024-03-15:1.2.840.1')).toMatchObject({
      title: 'CT CHEST', patientName: 'ROE^RICHARD', modalities: ['CT', 'SR'], workstations: ['ws-b'],
      series: [{ uid: '1.2.840.1.1', modality: 'CT', instances: 2 }, { uid: '1.2.840.1.2', modality: 'SR', instances: 1 }],
    });
    expect(byId.get(`report:${D}/ECG_Report_20240315_130000`)).toMatchObject({ indexed: false, patientId: null, acquiredAt: '2024-03-15T13:00:00' });
  });

  it('keeps names and IDs out of every key and every stored byte', async () => {
    const client = testS3Client();
    for (const key of await listAllKeys(client, a.bucket)) {
      expect(key).not.toMatch(/MRN|Doe|Jane|Zola|ROE/i);
      const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: a.bucket, Key: key }))).Body!.transformToByteArray());
      expect(body.toString('latin1')).not.toMatch(/MRN-|Doe\^Jane|Zola|RICHARD/);
    }
    client.destroy();
  });

  it('re-opens the day from SQLite without a request, and still when the store is unreachable', async () => {
    r.reset();
    const page = await catalog.openDay('2024-03-15');
    expect(page).toMatchObject({ source: 'catalog', total: 4 });
    expect(r.counts).toEqual({});
    const dead = new S3Store(testS3Client({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }), s3StoreSchema.parse(r.config.store));
    const offline = new Catalog(r.db, dead, { layout: r.config.layout, prefix: '', encryption: r.config.encryption, decryptKeys: () => buildDecryptKeyring(r.config.encryption, null) });
    const again = await offline.openDay('2024-03-15', { refresh: true });
    expect(again).toMatchObject({ source: 'catalog', total: 4 });
    expect(again.offline).toMatch(/unreachable/);
    expect((await offline.calendar('2024-03')).values).toEqual(['2024-03-15']);
    await expect(offline.openDay('2024-03-16')).rejects.toMatchObject({ code: 'network' });
  });

  it('shows a record another workstation added after a refresh, reading only its new index object', async () => {
    await deliver(b, wb, { key: `${S}/1.2.840.1.3/1.2.840.1.3.9.dcm`, kind: 'dicom', date: '2024-03-15', modality: 'MR', studyUid: '1.2.840.1', seriesUid: '1.2.840.1.3' }, n++);
    await deliver(b, wb, { key: `${D}/ECG_Report_20240315_140000.pdf`, kind: 'ecg-report', date: '2024-03-15', patientId: 'MRN-9' }, n++);
    await wb.flush();
    expect((await catalog.openDay('2024-03-15')).total).toBe(4);
    r.reset();
    const page = await catalog.openDay('2024-03-15', { refresh: true });
    expect(page.total).toBe(5);
    expect(r.counts.GetObjectCommand).toBe(1);
    expect(r.counts.HeadObjectCommand ?? 0).toBe(0);
    expect(page.records.find((x) => x.kind === 'dicom')!.series.map((s) => s.modality)).toEqual(['CT', 'SR', 'MR']);
  });

  it('drops a record deleted from the store at the next refresh', async () => {
    const gone = `${D}/ECG_Report_20240315_140000.pdf`;
    await a.client.send(new DeleteObjectCommand({ Bucket: a.bucket, Key: gone }));
    const stats = await catalog.refreshDay('2024-03-15');
    expect(stats.removed).toBe(1);
    const page = await catalog.openDay('2024-03-15');
    expect(page.total).toBe(4);
    expect(page.records.flatMap((x) => x.files.map((f) => f.key))).not.toContain(gone);
    expect((await catalog.search({ from: '2024-03-15', to: '2024-03-15', patient: 'MRN-9' }, 'none')).records).toEqual([]);
  });

  it('finds years, months and days by delimiter listings across the ECG, DICOM and index prefixes', async () => {
    await deliver(b, wb, { key: 'dicom/2023/12/31/1.9/1.9.1/1.9.1.1.dcm', kind: 'dicom', date: '2023-12-31', patientId: 'MRN-3', modality: 'CT' }, n++);
    await deliver(a, wa, { key: 'ecg-reports/2024/04/01/ECG_Report_20240401_080000.pdf', kind: 'ecg-report', date: '2024-04-01', patientName: 'Doe^Jane' }, n++);
    await wa.flush();
    await wb.flush();
    r.reset();
    expect((await catalog.calendar()).values).toEqual(['2023', '2024']);
    expect((await catalog.calendar('2024')).values).toEqual(['2024-03', '2024-04']);
    expect((await catalog.calendar('2024-03')).values).toEqual(['2024-03-15']);
    expect(Object.keys(r.counts)).toEqual(['ListObjectsV2Command']);
  });

  it('searches a date range by patient ID, name words, kind and modality, reading the days it lacks', async () => {
    const range = { from: '2023-12-01', to: '2024-04-30' };
    const ids = async (q: Parameters<Catalog['search']>[0]) => (await catalog.search(q)).records.map((x) => x.id).sort();
    expect(await ids({ ...range, patient: 'mrn-3' })).toEqual(['study:2023-12-31:1.9', 'study:2024-03-15:1.2.840.1']);
    expect(await ids({ ...range, patient: 'jane doe' })).toEqual([`report:${D}/ECG_Report_20240315_101500`, 'report:ecg-reports/2024/04/01/ECG_Report_20240401_080000']);
    expect(await ids({ ...range, patient: 'emile' })).toEqual([`package:${D}/20240315_111500`]);
    expect(await ids({ ...range, modality: 'MR' })).toEqual(['study:2024-03-15:1.2.840.1']);
    expect(await ids({ ...range, kind: 'ecg-package' })).toEqual([`package:${D}/20240315_111500`]);
    expect(await ids({ ...range, kind: 'ecg-report', patient: 'Doe' })).toHaveLength(2);
    expect(await ids({ from: '2024-04-01', to: '2024-04-30', patient: 'MRN-3' })).toEqual([]);
    await expect(catalog.search({ from: '2024-01-01', to: '2025-06-01' })).rejects.toMatchObject({ code: 'bad-input' });
  });

  it('pages a day without cutting it off', async () => {
    const first = await catalog.openDay('2024-03-15', { offset: 0, limit: 3 });
    const rest = await catalog.openDay('2024-03-15', { offset: 3, limit: 3 });
    expect(first.records).toHaveLength(3);
    expect(rest.records).toHaveLength(1);
    expect(new Set([...first.records, ...rest.records].map((x) => x.id)).size).toBe(4);
  });
});

describe('a day nobody indexed', () => {
  it('shows files other tools uploaded by key, reading their metadata a bounded number per refresh', async () => {
    const site = await s3Site(tempDir('cat-unindexed'), 'reader-u');
    for (let i = 0; i < 5; i++) await putObject(site.client, site.bucket, `${D}/ECG_Report_20240315_10000${i}.pdf`, { 'medrelay-workstation': 'old-cart' });
    const catalog = reader(site, { headLimit: 3 });
    site.reset();
    expect((await catalog.openDay('2024-03-15')).total).toBe(5);
    expect(site.counts.HeadObjectCommand).toBe(3);
    site.reset();
    const page = await catalog.openDay('2024-03-15', { refresh: true });
    expect(site.counts.HeadObjectCommand).toBe(2);
    expect(page.records.map((r) => r.workstations)).toEqual(Array(5).fill(['old-cart']));
  });
});

describe('index objects a station cannot trust or open', async () => {
  it('counts index objects of other keys as unreadable and still lists their records by key', async () => {
    const w = await s3Site(tempDir('cat-other-key'), 'ws-x');
    const reader2 = await s3Site(tempDir('cat-other-reader'), 'reader-y', { bucket: w.bucket });
    const writer = new IndexWriter(w.db, w.store, { workstationId: 'ws-x', prefix: '' });
    writer.start(w.encryption);
    await deliver(w, writer, { key: `${D}/ECG_Report_20240315_101500.pdf`, kind: 'ecg-report', date: '2024-03-15', patientId: 'MRN-1' }, 1);
    await writer.flush();
    const page = await reader(reader2).openDay('2024-03-15');
    expect(page).toMatchObject({ total: 1, unreadableIndex: 1 });
    expect(page.records[0]).toMatchObject({ indexed: false, patientId: null });
  });

  it('writes plain index objects in sse-only mode, which only sse-only stations read', async () => {
    const root = tempDir('cat-sse');
    const w = await s3Site(root, 'ws-s', { mode: 'sse-only' });
    const plainReader = await s3Site(root, 'reader-s', { bucket: w.bucket, mode: 'sse-only' });
    const clientReader = await s3Site(root, 'reader-c', { bucket: w.bucket });
    const writer = new IndexWriter(w.db, w.store, { workstationId: 'ws-s', prefix: '' });
    writer.start(null);
    await deliver(w, writer, { key: `${D}/ECG_Report_20240315_101500.pdf`, kind: 'ecg-report', date: '2024-03-15', patientId: 'MRN-5' }, 1);
    await writer.flush();
    const [ix] = await listAllKeys(w.client, w.bucket, indexDayPrefix('2024-03-15'));
    expect(ix).toMatch(/^index\/2024\/03\/15\/ws-s\/[0-9a-z]+-[0-9a-f]{16}\.idx$/);
    expect((await reader(plainReader).openDay('2024-03-15')).records[0]!.patientId).toBe('MRN-5');
    expect(await reader(clientReader).openDay('2024-03-15')).toMatchObject({ unreadableIndex: 1, records: [{ patientId: null }] });
  });
});
