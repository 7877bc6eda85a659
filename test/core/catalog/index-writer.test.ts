// The day index writer: entries from delivered files, batching per day, an outbox that survives
// failures and crashes, and a retry that the store recognises as the same write.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexDayPrefix, INDEX_ROOT } from '../../../src-main/core/catalog/entry.js';
import { IndexWriter } from '../../../src-main/core/catalog/index-writer.js';
import { s3StoreSchema } from '../../../src-main/core/config/schema.js';
import { sampleDicom } from '../../../src-main/core/demo/dicom-sample.js';
import { S3Store } from '../../../src-main/core/store/s3.js';
import { StoreError, type ObjectStore } from '../../../src-main/core/store/types.js';
import { Catalog } from '../../../src-main/core/catalog/catalog.js';
import { buildDecryptKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { listAllKeys, testS3Client } from '../../support/s3.js';
import { tempDir } from '../../support/tmp.js';
import { s3Site, sha } from './helpers.js';

const dir = tempDir('index-writer');

function entry(key: string, date = '2024-03-15', extra: Record<string, string> = {}) {
  return { key, kind: 'ecg-report' as const, date, fileName: key.slice(key.lastIndexOf('/') + 1), size: 1, sha256: sha(1), uploadedAt: `${date}T09:00:00.000Z`, workstation: 'ws-w', ...extra };
}

describe('IndexWriter', async () => {
  const site = await s3Site(dir, 'ws-w');

  it('builds an entry from a delivered DICOM file and a package file: patient, study, modality, UIDs, package', async () => {
    const writer = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '' });
    const dcm = join(dir, 'IM1.dcm');
    writeFileSync(dcm, sampleDicom({ studyUid: '1.2.5', seriesUid: '1.2.5.1', sopUid: '1.2.5.1.1', studyDate: '20240315', modality: 'MR', patientName: 'ROE^ANN', patientId: 'MRN-8', pixelBytes: 16 }));
    expect(await writer.entryFor({ objectKey: 'dicom/2024/03/15/1.2.5/1.2.5.1/1.2.5.1.1.dcm', kind: 'dicom', recordDate: '2024-03-15', sourcePath: dcm, size: 10, sha256: sha(2), contentType: 'application/dicom', uploadedAt: Date.UTC(2024, 2, 15, 9) }))
      .toMatchObject({ fileName: 'IM1.dcm', patientId: 'MRN-8', patientName: 'ROE^ANN', modality: 'MR', studyUid: '1.2.5', seriesUid: '1.2.5.1', sopUid: '1.2.5.1.1', uploadedAt: '2024-03-15T09:00:00.000Z', workstation: 'ws-w' });
    const pkg = join(dir, '20240315_111500');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'patient_details_20240315_111500.json'), JSON.stringify({ patientId: 'MRN-4', name: 'Ann Lee' }));
    expect(await writer.entryFor({ objectKey: 'ecg-reports/2024/03/15/20240315_111500/patient_details_20240315_111500.json', kind: 'ecg-package', recordDate: '2024-03-15', sourcePath: join(pkg, 'patient_details_20240315_111500.json'), size: 10, sha256: sha(3), contentType: 'application/json' }))
      .toMatchObject({ patientId: 'MRN-4', patientName: 'Ann Lee', packageName: '20240315_111500', acquiredAt: '2024-03-15T11:15:00' });
  });

  it('puts the entries of one day into one object, at most maxEntries each, and nothing when idle', async () => {
    const writer = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '', maxEntries: 2 });
    writer.start(site.encryption);
    expect(await writer.flush()).toBe(0);
    for (const i of [1, 2, 3]) writer.enqueue(entry(`ecg-reports/2024/03/16/r${i}.pdf`, '2024-03-16'));
    writer.enqueue(entry('ecg-reports/2024/03/17/r.pdf', '2024-03-17'));
    expect(await writer.flush()).toBe(3);
    expect(writer.pending()).toBe(0);
    expect(await listAllKeys(site.client, site.bucket, indexDayPrefix('2024-03-16'))).toHaveLength(2);
    expect(await listAllKeys(site.client, site.bucket, indexDayPrefix('2024-03-17'))).toHaveLength(1);
    await writer.stop();
  });

  it('repeats a trickle of small index objects in a pack, and a reader fetches the pack instead of them', async () => {
    const writer = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '', packAfter: 3 });
    writer.start(site.encryption);
    for (const i of [1, 2, 3, 4]) {
      writer.enqueue(entry(`ecg-reports/2024/03/21/r${i}.pdf`, '2024-03-21', { patientId: `MRN-${i}` }));
      await writer.flush();
    }
    const keys = await listAllKeys(site.client, site.bucket, indexDayPrefix('2024-03-21'));
    expect(keys.filter((k) => k.endsWith('.pack.idx'))).toHaveLength(1);
    expect(keys).toHaveLength(5);
    for (const i of [1, 2, 3, 4]) await site.client.send(new PutObjectCommand({ Bucket: site.bucket, Key: `ecg-reports/2024/03/21/r${i}.pdf`, Body: 'x' }));
    const reader = await s3Site(tempDir('index-writer-pack'), 'reader', { bucket: site.bucket, keyDir: dir });
    const page = await new Catalog(reader.db, reader.store, { layout: reader.config.layout, prefix: '', encryption: reader.config.encryption, decryptKeys: () => buildDecryptKeyring(reader.config.encryption, null) }).openDay('2024-03-21');
    expect(page.records.map((r) => r.patientId).sort()).toEqual(['MRN-1', 'MRN-2', 'MRN-3', 'MRN-4']);
    // The pack, and the fourth object, which came after it.
    expect(reader.counts.GetObjectCommand).toBe(2);
    await writer.stop();
  });

  it('writes on its own a moment after an entry arrives', async () => {
    const writer = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '', batchDelayMs: 50 });
    writer.start(site.encryption);
    writer.enqueue(entry('ecg-reports/2024/03/18/a.pdf', '2024-03-18'));
    writer.enqueue(entry('ecg-reports/2024/03/18/b.pdf', '2024-03-18'));
    await expect.poll(() => writer.pending(), { timeout: 5000 }).toBe(0);
    expect(await listAllKeys(site.client, site.bucket, indexDayPrefix('2024-03-18'))).toHaveLength(1);
    await writer.stop();
  });

  it('keeps entries in the outbox while the store refuses them, and a later writer on the same database sends them', async () => {
    const s3 = testS3Client({ credentials: { accessKeyId: 'wrong', secretAccessKey: 'wrong-secret' } });
    const refused = new S3Store(s3, s3StoreSchema.parse(site.config.store));
    const first = new IndexWriter(site.db, refused, { workstationId: 'ws-w', prefix: '' });
    first.start(site.encryption);
    first.enqueue(entry('ecg-reports/2024/03/19/a.pdf', '2024-03-19'));
    await expect(first.flush()).rejects.toMatchObject({ code: 'auth' });
    await first.stop();
    expect(first.pending()).toBe(1);
    const second = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '' });
    second.start(site.encryption);
    await expect.poll(() => second.pending(), { timeout: 5000 }).toBe(0);
    expect(await listAllKeys(site.client, site.bucket, indexDayPrefix('2024-03-19'))).toHaveLength(1);
    await second.stop();
  });

  it('writes an index object once when the answer to its first write was lost', async () => {
    // The write reaches the store, then the connection drops before the answer: the entries stay.
    const lossy: ObjectStore = Object.assign(Object.create(site.store) as ObjectStore, {
      put: async (req: Parameters<ObjectStore['put']>[0]) => {
        await site.store.put(req);
        throw new StoreError('network', 'connection reset after the write', true);
      },
    });
    const writer = new IndexWriter(site.db, lossy, { workstationId: 'ws-w', prefix: '' });
    writer.start(site.encryption);
    writer.enqueue(entry('ecg-reports/2024/03/20/a.pdf', '2024-03-20', { patientId: 'MRN-20' }));
    await expect(writer.flush()).rejects.toMatchObject({ code: 'network' });
    expect(writer.pending()).toBe(1);
    const again = new IndexWriter(site.db, site.store, { workstationId: 'ws-w', prefix: '' });
    again.start(site.encryption);
    expect(await again.flush()).toBe(1);
    expect(again.pending()).toBe(0);
    const keys = await listAllKeys(site.client, site.bucket, `${INDEX_ROOT}/2024/03/20/`);
    expect(keys).toHaveLength(1);
    // The object holds the entry once, readable by the site's key.
    const reader = await s3Site(tempDir('index-writer-reader'), 'reader', { bucket: site.bucket, keyDir: dir });
    await site.client.send(new PutObjectCommand({ Bucket: site.bucket, Key: 'ecg-reports/2024/03/20/a.pdf', Body: 'x' }));
    const page = await new Catalog(reader.db, reader.store, { layout: reader.config.layout, prefix: '', encryption: reader.config.encryption, decryptKeys: () => buildDecryptKeyring(reader.config.encryption, null) }).openDay('2024-03-20');
    expect(page.records.map((r) => r.patientId)).toEqual(['MRN-20']);
    await again.stop();
  });
});
