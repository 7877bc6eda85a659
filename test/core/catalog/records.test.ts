// Grouping, without a store: which stored files make one record.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT } from '../../../src-shared/keys.js';
import type { IndexEntry } from '../../../src-main/core/catalog/entry.js';
import { KeyReader } from '../../../src-main/core/catalog/key-parts.js';
import { groupRecords, recordIdOf, type FileRow } from '../../../src-main/core/catalog/records.js';

const reader = new KeyReader(DEFAULT_LAYOUT, 'site');
const partsOf = (k: string) => reader.read(k);
const day = 'site/ecg-reports/2024/03/15';

function row(key: string, entry: Partial<IndexEntry> | null = null): FileRow & { recordId: string } {
  const parts = partsOf(key);
  const e = entry ? { key, kind: parts!.kind, date: '2024-03-15', fileName: key.slice(key.lastIndexOf('/') + 1), size: 1, sha256: '0'.repeat(64), uploadedAt: '2024-03-15T10:00:00.000Z', workstation: 'ws', ...entry } as IndexEntry : null;
  return { key, date: '2024-03-15', kind: parts?.kind ?? 'unknown', storedSize: 10, lastModified: 0, workstation: null, uploadedAt: null, entry: e, recordId: recordIdOf(key, '2024-03-15', parts, e) };
}

describe('grouping', () => {
  it('makes one record of a package folder, of a report and its sidecar, and of a DICOM study with its series', () => {
    const rows = [
      row(`${day}/ECG_Report_20240315_101500.pdf`), row(`${day}/ECG_Report_20240315_101500.json`, { patientId: 'P1' }),
      row(`${day}/20240315_111500/ECG_Report_20240315_111500.pdf`), row(`${day}/20240315_111500/patient_details_20240315_111500.json`),
      row(`${day}/20240315_111500/ecg_data_20240315_111500.json`),
      row(`${day}/user_signup_1710497700.json`),
      row('site/dicom/2024/03/15/1.2.3/1.2.3.1/1.2.3.1.1.dcm', { modality: 'CT', seriesUid: '1.2.3.1', studyUid: '1.2.3' }),
      row('site/dicom/2024/03/15/1.2.3/1.2.3.1/1.2.3.1.2.dcm'),
      row('site/dicom/2024/03/15/1.2.3/1.2.3.2/1.2.3.2.1.dcm', { modality: 'SR', seriesUid: '1.2.3.2', studyUid: '1.2.3' }),
      row('site/elsewhere/readme.txt'),
    ];
    const records = groupRecords(rows, partsOf);
    const byKind = Object.fromEntries(records.map((r) => [r.id, r.files.length]));
    expect(byKind).toEqual({
      [`report:${day}/ECG_Report_20240315_101500`]: 2,
      [`package:${day}/20240315_111500`]: 3,
      [`file:${day}/user_signup_1710497700.json`]: 1,
      'study:2024-03-15:1.2.3': 3,
      'object:site/elsewhere/readme.txt': 1,
    });
    const report = records.find((r) => r.kind === 'ecg-report')!;
    expect(report.files.map((f) => f.fileName)).toEqual(['ECG_Report_20240315_101500.pdf', 'ECG_Report_20240315_101500.json']);
    expect(report).toMatchObject({ patientId: 'P1', indexed: false, acquiredAt: '2024-03-15T10:15:00' });
    const study = records.find((r) => r.kind === 'dicom')!;
    expect(study.series).toEqual([
      { uid: '1.2.3.1', modality: 'CT', description: null, instances: 2 },
      { uid: '1.2.3.2', modality: 'SR', description: null, instances: 1 },
    ]);
    expect(study.modalities).toEqual(['CT', 'SR']);
  });

  it('pairs a report with its sidecar under opaque keys by the original names in the index', () => {
    const a = row(`${day}/${'a'.repeat(32)}.pdf`, { fileName: 'ECG_Report_Jane_Doe.pdf' });
    const b = row(`${day}/${'b'.repeat(32)}.json`, { fileName: 'ECG_Report_Jane_Doe.json' });
    const c = row(`${day}/${'c'.repeat(32)}.pdf`);
    expect(a.recordId).toBe(b.recordId);
    expect(groupRecords([a, b, c], partsOf).map((r) => r.files.length).sort()).toEqual([1, 2]);
  });
});
