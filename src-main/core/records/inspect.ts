// Entry point for the watcher and the queue: is a stable file a complete record of a format this
// folder accepts, and what is it (kind, record date, DICOM UIDs) — everything keys.ts needs for its key.
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { DEFAULT_LAYOUT, objectKey, PACKAGE_NAME, SIGNUP_PREFIX, type RecordRef } from '../../../src-shared/keys.js';
import { dateFromJson, dateFromName, localDate } from './dates.js';
import { checkDicom } from './dicom.js';
import { checkJson, checkPdf } from './ecg-files.js';
import { MemoryHandle, readAt, type ReadHandle } from './source.js';

export type WatchKind = 'ecg' | 'dicom' | 'auto';
export type FileFormat = 'pdf' | 'json' | 'dicom';

export interface InspectedRecord {
  ref: RecordRef;
  format: FileFormat;
  contentType: string;
  dateSource: 'file-name' | 'folder-name' | 'json' | 'dicom' | 'mtime';
}

export type Inspection =
  | { status: 'complete'; record: InspectedRecord }
  | { status: 'incomplete'; reason: string }
  | { status: 'rejected'; reason: string };

export const CONTENT_TYPES: Record<FileFormat, string> = {
  pdf: 'application/pdf',
  json: 'application/json',
  dicom: 'application/dicom',
};

const ACCEPTS: Record<WatchKind, readonly FileFormat[]> = {
  ecg: ['pdf', 'json'],
  dicom: ['dicom'],
  auto: ['pdf', 'json', 'dicom'],
};

/** Hidden, temporary and partial-download files: never records. */
/** Hidden files and the temp names devices and copy tools use while writing. */
export function isTemporaryName(fileName: string): boolean {
  return fileName.startsWith('.') || fileName.startsWith('~') || /\.(tmp|part|partial|crdownload|swp)$/i.test(fileName);
}

// DICOM files are often named without an extension, or by their SOP Instance UID ("1.2.840.….123").
function dicomByName(ext: string): boolean {
  return ext === '.dcm' || ext === '.dicom' || ext === '' || /^\.\d+$/.test(ext);
}

async function detectFormat(handle: ReadHandle, ext: string, size: number): Promise<FileFormat | null> {
  if (ext === '.pdf') return 'pdf';
  if (ext === '.json') return 'json';
  if (dicomByName(ext)) return 'dicom';
  if (size >= 132 && (await readAt(handle, 128, 4)).toString('latin1') === 'DICM') return 'dicom';
  return null;
}

function rejectFormat(fileName: string, format: FileFormat | null, watchKind: WatchKind): Inspection {
  const accepted = watchKind === 'ecg' ? 'only PDF and JSON files' : watchKind === 'dicom' ? 'only DICOM files' : 'only PDF, JSON and DICOM files';
  // Format 'dicom' may come from the name alone (no extension): in an ECG folder, do not call it DICOM.
  const what = format === 'pdf' || format === 'json' ? `a ${format.toUpperCase()} file`
    : watchKind === 'ecg' ? 'not a PDF or JSON file' : 'of an unsupported file type';
  return { status: 'rejected', reason: `${fileName} is ${what}; a folder of kind "${watchKind}" accepts ${accepted}` };
}

/**
 * Inspects one stable file. Errors opening or reading it are thrown with their `code` (ENOENT: the
 * file vanished), except EBUSY (held open by its writer on Windows), which is `incomplete`.
 */
export async function inspectFile(path: string, opts: { watchKind: WatchKind; mtimeMs: number; size: number }): Promise<Inspection> {
  const fileName = basename(path);
  if (isTemporaryName(fileName)) return { status: 'rejected', reason: 'temporary file' };
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') return { status: 'incomplete', reason: `${fileName} is in use by another program` };
    throw e;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { status: 'rejected', reason: `${fileName} is not a regular file` };
    if (stat.size !== opts.size) {
      return { status: 'incomplete', reason: `${fileName} changed size from ${opts.size} to ${stat.size} bytes` };
    }
    return await inspectOpen(handle, path, opts);
  } finally {
    await handle.close();
  }
}

/** Inspects a regular file's bytes already read into memory (`bytes.length` is its size). */
export function inspectBytes(path: string, bytes: Buffer, opts: { watchKind: WatchKind; mtimeMs: number }): Promise<Inspection> {
  const fileName = basename(path);
  if (isTemporaryName(fileName)) return Promise.resolve({ status: 'rejected', reason: 'temporary file' });
  return inspectOpen(new MemoryHandle(bytes), path, { ...opts, size: bytes.length });
}

async function inspectOpen(handle: ReadHandle, path: string, opts: { watchKind: WatchKind; mtimeMs: number; size: number }): Promise<Inspection> {
  const fileName = basename(path);
  const format = await detectFormat(handle, extname(fileName).toLowerCase(), opts.size);
  if (format === null || !ACCEPTS[opts.watchKind].includes(format)) return rejectFormat(fileName, format, opts.watchKind);
  const inspection = format === 'dicom'
    ? await inspectDicom(handle, opts.size, fileName, opts.mtimeMs)
    : await inspectEcg(handle, opts.size, path, format, opts.mtimeMs);
  if (inspection.status !== 'complete') return inspection;
  const key = objectKey(inspection.record.ref, DEFAULT_LAYOUT);
  return key.ok ? inspection : { status: 'rejected', reason: key.error.message };
}

function noDate(fileName: string, mtimeMs: number): Inspection {
  return { status: 'rejected', reason: `${fileName} has no record date and its modification time (${mtimeMs}) is not a usable date` };
}

async function inspectDicom(handle: ReadHandle, size: number, fileName: string, mtimeMs: number): Promise<Inspection> {
  const check = await checkDicom(handle, size, fileName);
  if (check.status !== 'complete') return check;
  const { studyUid, seriesUid, sopUid, date } = check;
  const recordDate = date ?? localDate(mtimeMs);
  if (!recordDate) return noDate(fileName, mtimeMs);
  return {
    status: 'complete',
    record: {
      ref: { kind: 'dicom', date: recordDate, fileName, studyUid, seriesUid, sopUid },
      format: 'dicom',
      contentType: CONTENT_TYPES.dicom,
      dateSource: date ? 'dicom' : 'mtime',
    },
  };
}

async function inspectEcg(handle: ReadHandle, size: number, path: string, format: 'pdf' | 'json', mtimeMs: number): Promise<Inspection> {
  const fileName = basename(path);
  let doc: unknown;
  if (format === 'pdf') {
    const check = await checkPdf(handle, size, fileName);
    if (check.status !== 'complete') return check;
  } else {
    const check = await checkJson(handle, size, fileName);
    if (check.status !== 'complete') return check;
    doc = check.value;
  }

  const folder = basename(dirname(path));
  const stem = fileName.slice(0, fileName.length - extname(fileName).length);
  const isPackage = PACKAGE_NAME.test(folder);
  const isSignup = !isPackage && format === 'json' && fileName.startsWith(SIGNUP_PREFIX);
  const ref: RecordRef = isPackage
    ? { kind: 'ecg-package', date: '', fileName, packageName: folder }
    : { kind: isSignup ? 'ecg-signup' : 'ecg-report', date: '', fileName };

  // The record's own date, most trustworthy source first; a source with no real date falls through.
  const sources: [InspectedRecord['dateSource'], () => string | null][] = [
    ['folder-name', () => (isPackage ? dateFromName(folder) : null)],
    ['file-name', () => dateFromName(isSignup ? stem.slice(SIGNUP_PREFIX.length) : stem, isSignup)],
    ['json', () => (format === 'json' ? dateFromJson(doc) : null)],
  ];
  let dateSource: InspectedRecord['dateSource'] = 'mtime';
  let date: string | null = null;
  for (const [source, read] of sources) {
    date = read();
    if (date) {
      dateSource = source;
      break;
    }
  }
  date ??= localDate(mtimeMs);
  if (!date) return noDate(fileName, mtimeMs);
  ref.date = date;
  return { status: 'complete', record: { ref, format, contentType: CONTENT_TYPES[format], dateSource } };
}
