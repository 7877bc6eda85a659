// DICOM files: the pydicom test corpus, truncation at many points, deflate, encapsulated PDF, and a
// 60 MB file inspected without reading it.
import { execFileSync } from 'node:child_process';
import { copyFile, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDicom } from '../../../src-main/core/records/dicom.js';
import { localDate } from '../../../src-main/core/records/dates.js';
import { inspectFile } from '../../../src-main/core/records/inspect.js';
import { dicomHeader, element, inspect, makeTempDir, minimalPdf, put, PYDICOM, removeDir, writeLargeDicom } from './helpers.js';

let dir: string;
beforeAll(async () => { dir = await makeTempDir(); });
afterAll(async () => { await removeDir(dir); });

/** What dicom-parser alone says about a whole file: its UIDs, or null if it throws or lacks one. */
function parserUids(bytes: Buffer): { studyUid: string; seriesUid: string; sopUid: string } | null {
  try {
    const ds = dicomParser.parseDicom(bytes);
    const get = (t: string) => (ds.string(t) ?? '').replace(/[\0 ]+$/, '');
    const uids = { studyUid: get('x0020000d'), seriesUid: get('x0020000e'), sopUid: get('x00080018') };
    return uids.studyUid && uids.seriesUid && uids.sopUid ? uids : null;
  } catch {
    return null;
  }
}

/** Copies the first `length` bytes of `source` to a new file and returns its path. */
async function cutCopy(source: string, length: number, name: string): Promise<string> {
  const bytes = await readFile(source);
  return put(dir, name, bytes.subarray(0, length));
}

function lastIndexOfTag(bytes: Buffer, group: number, elem: number, bigEndian = false): number {
  const t = Buffer.alloc(4);
  if (bigEndian) { t.writeUInt16BE(group, 0); t.writeUInt16BE(elem, 2); } else { t.writeUInt16LE(group, 0); t.writeUInt16LE(elem, 2); }
  return bytes.lastIndexOf(t);
}

describe('pydicom test files', () => {
  it('classifies every file in the folder as dicom with its UIDs, or gives a reason — never throws', async () => {
    const names = (await readdir(PYDICOM, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    expect(names.length).toBeGreaterThan(40);
    let complete = 0;
    for (const name of names) {
      const path = join(PYDICOM, name);
      const result = await inspect(path, 'dicom');
      const expected = name.endsWith('.dcm') ? parserUids(await readFile(path)) : null;
      if (expected) {
        expect({ name, ...result }).toMatchObject({ name, status: 'complete', record: { format: 'dicom', ref: { kind: 'dicom', ...expected } } });
        complete++;
      } else if (result.status === 'complete') {
        expect(result.record.format).toBe('dicom');
      } else {
        expect(result.reason, name).toMatch(/\S/);
      }
    }
    expect(complete).toBeGreaterThan(40);
  });

  it('handles the DICOMDIR test tree: directories rejected, images classified, nothing thrown', async () => {
    const root = join(PYDICOM, 'dicomdirtests');
    const entries = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    let complete = 0;
    for (const e of entries) {
      const result = await inspect(join(e.parentPath, e.name), 'dicom');
      if (e.name.startsWith('DICOMDIR') && e.name !== 'DICOMDIR-nooffset') {
        expect(result, e.name).toMatchObject({ status: 'rejected', reason: expect.stringContaining('DICOMDIR') });
      }
      if (result.status === 'complete') complete++;
      else expect(result.reason, e.name).toMatch(/\S/);
    }
    // The 31 CT/MR/CR images have pixel data; TINY_ALPHA's images had theirs stripped (incomplete).
    expect(complete).toBe(31);
  });

  it('finds the truncated files of the corpus incomplete', async () => {
    for (const name of ['MR_truncated.dcm', 'rtplan_truncated.dcm']) {
      expect(await inspect(join(PYDICOM, name), 'dicom'), name).toMatchObject({ status: 'incomplete' });
    }
  });

  it('reads waveform_ecg.dcm with its StudyDate', async () => {
    const result = await inspect(join(PYDICOM, 'waveform_ecg.dcm'), 'auto');
    expect(result).toEqual({
      status: 'complete',
      record: {
        ref: {
          kind: 'dicom', date: '2013-01-25', fileName: 'waveform_ecg.dcm',
          studyUid: '1.3.76.13.65829.2.20130125082826.1072139.2',
          seriesUid: '1.3.6.1.4.1.20029.40.20130125105919.5407.1',
          sopUid: '1.3.6.1.4.1.20029.40.20130125105919.5407.1.1',
        },
        format: 'dicom', contentType: 'application/dicom', dateSource: 'dicom',
      },
    });
  });

  it('rejects files without a Part 10 header, and DICOMs without UIDs, with reasons', async () => {
    expect(await inspect(join(PYDICOM, 'no_meta.dcm'), 'dicom')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('DICM') });
    expect(await inspect(join(PYDICOM, 'meta_missing_tsyntax.dcm'), 'dicom')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('Transfer Syntax') });
  });
});

describe('truncated DICOM', () => {
  const files: { name: string; bigEndian?: boolean }[] = [
    { name: 'MR_small.dcm' }, { name: 'MR_small_implicit.dcm' }, { name: 'MR_small_bigendian.dcm', bigEndian: true },
    { name: 'JPEG2000.dcm' }, { name: 'SC_rgb_rle_2frame.dcm' }, { name: 'liver_1frame.dcm' }, { name: 'waveform_ecg.dcm' },
  ];

  for (const { name, bigEndian } of files) {
    it(`${name}: half, header only and last byte missing are incomplete`, async () => {
      const source = join(PYDICOM, name);
      const bytes = await readFile(source);
      const pixel = lastIndexOfTag(bytes, 0x7fe0, 0x0010, bigEndian);
      const header = pixel > 0 ? pixel : lastIndexOfTag(bytes, 0x5400, 0x0100);
      expect(header).toBeGreaterThan(132);
      for (const [label, length] of [['half', bytes.length >> 1], ['header only', header], ['last byte missing', bytes.length - 1]] as const) {
        const result = await inspect(await cutCopy(source, length, `${label}-${name}`), 'dicom');
        expect({ label, status: result.status }).toEqual({ label, status: 'incomplete' });
      }
    });

    it(`${name}: no cut point comes out complete`, async () => {
      const source = join(PYDICOM, name);
      const bytes = await readFile(source);
      // MR_small ends with trailing padding (FFFC,FFFC): cut just before it, the file is a complete image.
      const padding = lastIndexOfTag(bytes, 0xfffc, 0xfffc);
      const step = Math.max(1, Math.floor(bytes.length / 120));
      const cut = join(dir, `cut-${name}`);
      for (let length = 0; length < bytes.length; length += step) {
        await writeFile(cut, bytes.subarray(0, length));
        const result = await inspect(cut, 'dicom');
        if (length !== padding) expect({ length, status: result.status }).not.toEqual({ length, status: 'complete' });
      }
    });
  }
});

describe('deflated DICOM', () => {
  it('reads the deflated pydicom file', async () => {
    const result = await inspect(join(PYDICOM, 'image_dfl.dcm'), 'dicom');
    expect(result).toMatchObject({ status: 'complete', record: { ref: { kind: 'dicom', ...parserUids(await readFile(join(PYDICOM, 'image_dfl.dcm'))) } } });
  });

  it('reads a waveform deflated by dcmconv, and finds its truncated copies incomplete', async () => {
    const path = join(dir, 'wf_deflated.dcm');
    execFileSync('dcmconv', ['+td', join(PYDICOM, 'waveform_ecg.dcm'), path]);
    const result = await inspect(path, 'dicom');
    expect(result).toMatchObject({ status: 'complete', record: { dateSource: 'dicom', ref: { date: '2013-01-25', sopUid: '1.3.6.1.4.1.20029.40.20130125105919.5407.1.1' } } });
    const size = (await stat(path)).size;
    for (const length of [size >> 1, size - 1]) {
      expect(await inspect(await cutCopy(path, length, `dfl-${length}.dcm`), 'dicom')).toMatchObject({ status: 'incomplete' });
    }
  });
});

describe('encapsulated PDF (pdf2dcm)', () => {
  it('is complete, and incomplete when cut before its document', async () => {
    const pdf = await put(dir, 'doc.pdf', minimalPdf());
    const path = join(dir, 'doc-pdf.dcm');
    execFileSync('pdf2dcm', [pdf, path]);
    expect(await inspect(path, 'dicom')).toMatchObject({ status: 'complete', record: { format: 'dicom' } });
    const bytes = await readFile(path);
    const cut = await cutCopy(path, lastIndexOfTag(bytes, 0x0042, 0x0011), 'doc-pdf-cut.dcm');
    expect(await inspect(cut, 'dicom')).toMatchObject({ status: 'incomplete', reason: expect.stringContaining('0042,0011') });
  });
});

describe('hand-made DICOM', () => {
  const uids = { studyUid: '1.2.826.0.1.3680043.99.2', seriesUid: '1.2.826.0.1.3680043.99.3', sopUid: '1.2.826.0.1.3680043.99.4' };
  const pixels = element(0x7fe0, 0x0010, 'OW', Buffer.alloc(64));

  it('falls back to the local date of the modification time without a DICOM date', async () => {
    const path = await put(dir, 'nodate.dcm', Buffer.concat([dicomHeader(uids), pixels]));
    const mtime = new Date(2023, 6, 4, 23, 30).getTime();
    expect(await inspect(path, 'dicom', mtime)).toMatchObject({ status: 'complete', record: { dateSource: 'mtime', ref: { date: '2023-07-04' } } });
    expect(localDate(mtime)).toBe('2023-07-04');
  });

  it('ignores a StudyDate that is not a calendar date', async () => {
    const path = await put(dir, 'baddate.dcm', Buffer.concat([dicomHeader({ ...uids, studyDate: '20241399' }), pixels]));
    expect(await inspect(path, 'dicom', new Date(2022, 0, 2).getTime())).toMatchObject({ record: { dateSource: 'mtime', ref: { date: '2022-01-02' } } });
  });

  it('rejects an invalid UID, and a file without DICM', async () => {
    const bad = await put(dir, 'baduid.dcm', Buffer.concat([dicomHeader({ ...uids, studyUid: '1.2.abc' }), pixels]));
    expect(await inspect(bad, 'dicom')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('StudyInstanceUID') });
    const none = await put(dir, 'nouid.dcm', Buffer.concat([dicomHeader({ ...uids, studyUid: '' }), pixels]));
    expect(await inspect(none, 'dicom')).toMatchObject({ status: 'rejected', reason: 'nouid.dcm has no StudyInstanceUID (0020,000D)' });
    const notDicom = await put(dir, 'IMG0001', Buffer.alloc(400, 0x41));
    expect(await inspect(notDicom, 'dicom')).toMatchObject({ status: 'rejected', reason: expect.stringContaining('IMG0001') });
  });

  it('treats short files, a bare meta header and a zero-filled tail as incomplete', async () => {
    const header = dicomHeader(uids);
    const metaEnd = header.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]), 132);
    const cases = {
      'empty.dcm': Buffer.alloc(0),
      'short.dcm': header.subarray(0, 100),
      'meta-only.dcm': header.subarray(0, metaEnd),
      'preallocated.dcm': Buffer.concat([header, pixels.subarray(0, 12), Buffer.alloc(4096)]),
      'zero-tail.dcm': Buffer.concat([header.subarray(0, metaEnd + 40), Buffer.alloc(8192)]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect(await inspect(await put(dir, name, bytes), 'dicom'), name).toMatchObject({ status: 'incomplete' });
    }
  });
});

describe('large DICOM (60 MB)', () => {
  const uids = { studyUid: '1.2.826.0.1.3680043.99.5', seriesUid: '1.2.826.0.1.3680043.99.6', sopUid: '1.2.826.0.1.3680043.99.7' };
  const pixelBytes = 4096 * 7680 * 2;

  for (const fragments of [0, 600]) {
    it(`is classified without reading its pixel data (${fragments ? `${fragments} fragments` : 'native'})`, async () => {
      const path = join(dir, `large-${fragments}.dcm`);
      const size = await writeLargeDicom(path, { ...uids, studyDate: '20240315' }, pixelBytes, fragments);
      expect(size).toBeGreaterThan(60 * 1024 * 1024);

      // Bounded by design: the reader fetches element headers, not values.
      const stats = { bytesRead: 0 };
      const handle = await open(path, 'r');
      try {
        expect(await checkDicom(handle, size, 'large.dcm', stats)).toMatchObject({ status: 'complete', date: '2024-03-15', ...uids });
      } finally {
        await handle.close();
      }
      expect(stats.bytesRead).toBeLessThan(4 * 1024 * 1024);

      const before = process.memoryUsage().arrayBuffers;
      const result = await inspect(path, 'dicom');
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
      expect(result).toMatchObject({ status: 'complete', record: { dateSource: 'dicom', ref: { date: '2024-03-15', sopUid: uids.sopUid } } });

      await truncate(path, size - 1);
      expect(await inspect(path, 'dicom')).toMatchObject({ status: 'incomplete' });
      await truncate(path, 0);
    });
  }

  it('a copy being written (size still changing) is incomplete', async () => {
    const path = join(dir, 'growing.dcm');
    await copyFile(join(PYDICOM, 'MR_small.dcm'), path);
    const s = await stat(path);
    const result = await inspectFile(path, { watchKind: 'dicom', mtimeMs: s.mtimeMs, size: s.size - 10 });
    expect(result).toMatchObject({ status: 'incomplete', reason: expect.stringContaining('changed size') });
  });
});
