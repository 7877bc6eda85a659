// inspectFile on real files: formats per folder kind, PDF and JSON completeness, ECG kinds and dates.
import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../../../src-main/core/records/dates.js';
import { inspectFile } from '../../../src-main/core/records/inspect.js';
import { inspect, makeTempDir, minimalPdf, put, PYDICOM, removeDir } from './helpers.js';

let dir: string;
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => { await removeDir(dir); });

const MTIME = new Date(2021, 4, 6, 0, 30).getTime(); // local 2021-05-06, just after midnight

describe('file types and folder kinds', () => {
  it('rejects hidden and temporary files as "temporary file"', async () => {
    for (const name of ['.DS_Store', 'report.pdf.tmp', 'scan.dcm.part', '~$report.pdf', 'x.TMP']) {
      const path = await put(dir, name, '%PDF-1.4\n%%EOF\n');
      expect(await inspect(path, 'auto'), name).toEqual({ status: 'rejected', reason: 'temporary file' });
    }
  });

  it('accepts per folder kind and names the file when it rejects', async () => {
    const pdf = await put(dir, 'kinds/a.pdf', minimalPdf());
    const dcm = join(dir, 'kinds/b.dcm');
    await copyFile(join(PYDICOM, 'CT_small.dcm'), dcm);
    const txt = await put(dir, 'kinds/notes.txt', 'hello');
    expect(await inspect(pdf, 'ecg')).toMatchObject({ status: 'complete', record: { format: 'pdf', contentType: 'application/pdf' } });
    expect(await inspect(pdf, 'dicom')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('a.pdf') });
    expect(await inspect(dcm, 'ecg')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('b.dcm') });
    expect(await inspect(dcm, 'auto')).toMatchObject({ status: 'complete', record: { format: 'dicom' } });
    for (const kind of ['ecg', 'dicom', 'auto'] as const) {
      expect(await inspect(txt, kind)).toMatchObject({ status: 'rejected', reason: expect.stringContaining('notes.txt') });
    }
  });

  it('recognises DICOM without a .dcm extension: no extension, UID names, DICM at byte 128', async () => {
    for (const name of ['IM000001', '1.2.840.113619.2.55.3.4', 'scan.img']) {
      const path = join(dir, 'kinds', name);
      await copyFile(join(PYDICOM, 'MR_small.dcm'), path);
      expect(await inspect(path, 'auto'), name).toMatchObject({ status: 'complete', record: { format: 'dicom', ref: { kind: 'dicom' } } });
    }
  });

  it('throws ENOENT with its code for a vanished file', async () => {
    await expect(inspectFile(join(dir, 'gone.pdf'), { watchKind: 'auto', mtimeMs: MTIME, size: 10 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('PDF completeness', () => {
  it('is complete with %%EOF at the end, also followed by white space', async () => {
    const pdf = minimalPdf();
    expect(await inspect(await put(dir, 'pdf/ok.pdf', pdf))).toMatchObject({ status: 'complete' });
    expect(await inspect(await put(dir, 'pdf/ws.pdf', Buffer.concat([pdf, Buffer.from('\r\n  \n')])))).toMatchObject({ status: 'complete' });
  });

  it('is incomplete without %%EOF, empty, or cut; rejected when it is not a PDF', async () => {
    const pdf = minimalPdf();
    const noEof = await put(dir, 'pdf/cut.pdf', pdf.subarray(0, pdf.length - 7));
    expect(await inspect(noEof)).toEqual({ status: 'incomplete', reason: 'PDF does not end with %%EOF (cut.pdf)' });
    expect(await inspect(await put(dir, 'pdf/half.pdf', pdf.subarray(0, pdf.length >> 1)))).toMatchObject({ status: 'incomplete' });
    expect(await inspect(await put(dir, 'pdf/empty.pdf', ''))).toMatchObject({ status: 'incomplete' });
    // An incremental update being appended: the old %%EOF is no longer at the end.
    const appending = await put(dir, 'pdf/append.pdf', Buffer.concat([pdf, Buffer.from('5 0 obj\n<< /Type /Annot')]));
    expect(await inspect(appending)).toMatchObject({ status: 'incomplete' });
    expect(await inspect(await put(dir, 'pdf/fake.pdf', 'this is not a pdf at all, just text'))).toMatchObject({ status: 'rejected' });
  });
});

describe('JSON completeness', () => {
  it('is complete when it parses, incomplete when partial or empty', async () => {
    const doc = JSON.stringify({ device: 'cart-1', leads: 12, samples: [1, 2, 3] });
    expect(await inspect(await put(dir, 'json/ok.json', doc))).toMatchObject({ status: 'complete', record: { format: 'json', contentType: 'application/json' } });
    expect(await inspect(await put(dir, 'json/bom.json', `\uFEFF${doc}`))).toMatchObject({ status: 'complete' });
    expect(await inspect(await put(dir, 'json/partial.json', doc.slice(0, 20)))).toMatchObject({ status: 'incomplete', reason: expect.stringContaining('partial.json') });
    expect(await inspect(await put(dir, 'json/empty.json', ''))).toMatchObject({ status: 'incomplete' });
    expect(await inspect(await put(dir, 'json/blank.json', '  \n'))).toMatchObject({ status: 'incomplete' });
  });

  it('does not quote the document in its reason', async () => {
    const result = await inspect(await put(dir, 'json/secret.json', '{"patientName": "Doe^Jane", oops'));
    expect(result.status).toBe('incomplete');
    expect(JSON.stringify(result)).not.toContain('Doe');
  });
});

describe('ECG classification', () => {
  it('puts the files of a package folder under the package, dated by the folder name', async () => {
    const files = ['ECG_Report_20240315_101500.pdf', 'patient_details_20240315_101500.json', 'ecg_data_20240315_101500.json'];
    for (const name of files) {
      const path = await put(dir, `pkg/20240315_101500/${name}`, name.endsWith('.pdf') ? minimalPdf() : '{"leads": 12}');
      expect(await inspect(path, 'ecg', MTIME)).toMatchObject({
        status: 'complete',
        record: { dateSource: 'folder-name', ref: { kind: 'ecg-package', packageName: '20240315_101500', date: '2024-03-15', fileName: name } },
      });
    }
  });

  it('dates a package with an impossible folder date by the next source', async () => {
    const path = await put(dir, 'pkg/20241399_101500/ecg_data.json', '{"recordedAt": "2024-12-01T08:00:00"}');
    expect(await inspect(path, 'ecg', MTIME)).toMatchObject({
      record: { dateSource: 'json', ref: { kind: 'ecg-package', packageName: '20241399_101500', date: '2024-12-01' } },
    });
  });

  it('dates signups by a timestamp in the name, else a JSON field, else mtime', async () => {
    const byName = await put(dir, 'signup/user_signup_20240316_080000.json', '{"createdAt": "2020-01-01"}');
    expect(await inspect(byName, 'ecg', MTIME)).toMatchObject({ record: { dateSource: 'file-name', ref: { kind: 'ecg-signup', date: '2024-03-16' } } });
    const epoch = await put(dir, 'signup/user_signup_1710497700.json', '{}');
    expect(await inspect(epoch, 'ecg', MTIME)).toMatchObject({ record: { dateSource: 'file-name', ref: { date: localDate(1710497700_000) } } });
    for (const [field, value, date] of [
      ['createdAt', '2024-03-17T09:00:00', '2024-03-17'], ['created_at', '2024-03-18', '2024-03-18'], ['timestamp', 1710756000_000, localDate(1710756000_000)],
      ['signupDate', '20240319', '2024-03-19'], ['date', '2024-03-20', '2024-03-20'],
    ] as const) {
      const path = await put(dir, `signup/user_signup_${field}.json`, JSON.stringify({ name: 'x', [field]: value }));
      expect(await inspect(path, 'ecg', MTIME), field).toMatchObject({ record: { dateSource: 'json', ref: { kind: 'ecg-signup', date } } });
    }
    const none = await put(dir, 'signup/user_signup_abc.json', '{"email": "nobody@example.invalid"}');
    expect(await inspect(none, 'ecg', MTIME)).toMatchObject({ record: { dateSource: 'mtime', ref: { kind: 'ecg-signup', date: '2021-05-06' } } });
  });

  it('dates reports and their sidecars by the file name', async () => {
    for (const name of ['ECG_Report_20240315_101500.pdf', 'ECG_Report_20240315_101500.json', 'ECG_Report_2024-03-15.pdf', 'ecg-20240315.pdf']) {
      const path = await put(dir, `reports/${name}`, name.endsWith('.pdf') ? minimalPdf() : '{"createdAt": "2001-01-01"}');
      expect(await inspect(path, 'auto', MTIME), name).toMatchObject({
        status: 'complete', record: { dateSource: 'file-name', ref: { kind: 'ecg-report', date: '2024-03-15', fileName: name } },
      });
    }
  });

  it('ignores impossible dates in names and falls back to JSON, then to the local mtime date', async () => {
    const json = await put(dir, 'reports/ECG_Report_20241399_101500.json', '{"recordedAt": "2024-02-29T23:59:00"}');
    expect(await inspect(json, 'ecg', MTIME)).toMatchObject({ record: { dateSource: 'json', ref: { date: '2024-02-29' } } });
    const pdf = await put(dir, 'reports/ECG_Report_20230229_101500.pdf', minimalPdf());
    expect(await inspect(pdf, 'ecg', MTIME)).toMatchObject({ record: { dateSource: 'mtime', ref: { kind: 'ecg-report', date: '2021-05-06' } } });
    const plain = await put(dir, 'reports/report.pdf', minimalPdf());
    const lateEvening = new Date(2022, 11, 31, 23, 59).getTime();
    expect(await inspect(plain, 'ecg', lateEvening)).toMatchObject({ record: { dateSource: 'mtime', ref: { date: '2022-12-31' } } });
  });

  it('reports a size that changed since the watcher saw it as incomplete', async () => {
    const path = await put(dir, 'reports/growing.pdf', minimalPdf());
    const s = await stat(path);
    expect(await inspectFile(path, { watchKind: 'ecg', mtimeMs: s.mtimeMs, size: s.size + 1 })).toMatchObject({ status: 'incomplete' });
  });
});
