// The benchmark's data sets, generated from a seed: A) a DICOM series of large files, B) a day of
// ECG PDFs in several folders, C) PDFs for the trickle. Same seed, same bytes.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dicomHeader } from '../../dist/src-main/core/demo/dicom-sample.js';
import { paddedPdf } from './pdf.mjs';
import { byteStream } from './prng.mjs';

export const FULL = {
  A: { files: 20, bytes: 50_000_000 },
  B: { files: 2000, bytes: 200_000, folders: 10 },
  C: { files: 200, bytes: 50_000, pauseMs: [100, 200] },
  R: { jobs: 100_000 },
};

export const QUICK = {
  A: { files: 4, bytes: 20_000_000 },
  B: { files: 200, bytes: 200_000, folders: 4 },
  C: { files: 30, bytes: 50_000, pauseMs: [100, 200] },
  R: { jobs: 10_000 },
};

const CHUNK = 4 * 1024 * 1024;
const UID_ROOT = '1.2.826.0.1.3680043.10.1234.77';

/** `n`-th second of a day as HHMMSS. */
function hhmmss(n) {
  const p = (x) => String(x).padStart(2, '0');
  return `${p(Math.floor(n / 3600) % 24)}${p(Math.floor(n / 60) % 60)}${p(n % 60)}`;
}

/** A: `files` DICOM Part 10 files of exactly `bytes` bytes each, one series, distinct SOP UIDs. */
export function generateA(dir, spec, seed) {
  mkdirSync(dir, { recursive: true });
  const study = `${UID_ROOT}.${seed}.1`;
  const series = `${study}.1`;
  const files = [];
  for (let i = 1; i <= spec.files; i++) {
    const sop = `${series}.${i}`;
    const probe = dicomHeader({ studyUid: study, seriesUid: series, sopUid: sop, studyDate: '20250301', modality: 'CT', pixelBytes: 2 });
    const pixelBytes = spec.bytes - probe.length;
    const header = dicomHeader({ studyUid: study, seriesUid: series, sopUid: sop, studyDate: '20250301', modality: 'CT', pixelBytes });
    const path = join(dir, `IM_${String(i).padStart(4, '0')}.dcm`);
    const bytes = byteStream(seed, `A:${i}`);
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, header);
      for (let left = pixelBytes; left > 0; left -= CHUNK) writeSync(fd, bytes.next(Math.min(CHUNK, left)));
    } finally {
      closeSync(fd);
    }
    files.push(path);
  }
  return { dir, files, bytes: spec.files * spec.bytes };
}

export function ecgName(day, second) {
  return `ECG_Report_${day}_${hhmmss(second)}.pdf`;
}

/** B: `files` PDFs of exactly `bytes` bytes spread over `folders` sub-folders (ward-00 …). */
export function generateB(dir, spec, seed) {
  const bytes = byteStream(seed, 'B');
  const files = [];
  for (let i = 0; i < spec.files; i++) {
    const folder = join(dir, `ward-${String(i % spec.folders).padStart(2, '0')}`);
    if (i < spec.folders) mkdirSync(folder, { recursive: true });
    const name = ecgName('20250301', i);
    const path = join(folder, name);
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, paddedPdf(`Bench ECG report ${name}`, spec.bytes, (n) => bytes.next(n)));
    } finally {
      closeSync(fd);
    }
    files.push(path);
  }
  return { dir, files, bytes: spec.files * spec.bytes };
}

/** C: the PDFs the trickle writes, in memory, with their names (a day apart from B). */
export function trickleFiles(spec, seed) {
  const bytes = byteStream(seed, 'C');
  return Array.from({ length: spec.files }, (_, i) => {
    const name = ecgName('20250302', i);
    return { name, content: paddedPdf(`Bench trickle ${name}`, spec.bytes, (n) => bytes.next(n)) };
  });
}
