// What an index entry says about the patient and the acquisition, read from the source file once it
// is delivered: DICOM attributes (PatientID, PatientName, StudyDescription, Modality, times) and,
// best effort, the patient fields ECG carts put in their JSON. Never throws: a file that cannot be
// read gives an entry without these fields, and the record still shows by its key.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import dicomParser, { type DataSet } from 'dicom-parser';
import type { RecordKind } from '../../../src-shared/keys.js';
import { dateFromDicomDA } from '../records/dates.js';
import { readAt } from '../records/source.js';

export interface RecordFields {
  patientId?: string;
  patientName?: string;
  studyDescription?: string;
  seriesDescription?: string;
  modality?: string;
  acquiredAt?: string;
  studyUid?: string;
  seriesUid?: string;
  sopUid?: string;
}

/** The attributes sit in groups 0008-0020, well before any bulk data; 1 MiB covers large headers. */
const DICOM_HEAD = 1024 * 1024;
const JSON_MAX = 32 * 1024 * 1024;
const FIELD_MAX = 256;

function cleanText(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = [...String(v)].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('').trim().slice(0, FIELD_MAX);
  return s || undefined;
}

/** DICOM DA + TM (or a DT) as `YYYY-MM-DDTHH:MM:SS`, the time part optional. */
export function dicomDateTime(da: string | undefined, tm: string | undefined): string | undefined {
  const date = dateFromDicomDA(da);
  if (!date) return undefined;
  const t = /^(\d{2})(\d{2})?(\d{2})?/.exec((tm ?? '').trim());
  if (!t) return date;
  return `${date}T${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}`;
}

function stringOf(ds: DataSet, tag: string, utf8: boolean): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.dataOffset + el.length > ds.byteArray.length) return undefined;
  const bytes = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, el.length);
  return cleanText(bytes.toString(utf8 ? 'utf8' : 'latin1').split('\\')[0]);
}

/** Reads the indexed attributes from the start of a DICOM Part 10 file. */
export async function dicomFields(path: string): Promise<RecordFields> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const size = (await handle.stat()).size;
    head = await readAt(handle, 0, Math.min(size, DICOM_HEAD));
  } finally {
    await handle.close();
  }
  let ds: DataSet | undefined;
  try {
    ds = dicomParser.parseDicom(head, { untilTag: 'x7fe00010' });
  } catch (e) {
    // A head cut inside a later element still holds the attributes read so far.
    ds = (e as { dataSet?: DataSet } | null)?.dataSet;
  }
  if (!ds) return {};
  const charset = stringOf(ds, 'x00080005', false) ?? '';
  const utf8 = /ISO_IR 192/.test(charset);
  const s = (tag: string) => stringOf(ds, tag, utf8);
  const acquiredAt = dicomDateTime(s('x0008002a')?.slice(0, 8), s('x0008002a')?.slice(8))
    ?? dicomDateTime(s('x00080022'), s('x00080032'))
    ?? dicomDateTime(s('x00080023'), s('x00080033'))
    ?? dicomDateTime(s('x00080020'), s('x00080030'));
  return compact({
    patientId: s('x00100020'),
    patientName: s('x00100010'),
    studyDescription: s('x00081030'),
    seriesDescription: s('x0008103e'),
    modality: s('x00080060'),
    acquiredAt,
    studyUid: s('x0020000d'),
    seriesUid: s('x0020000e'),
    sopUid: s('x00080018'),
  });
}

const ID_FIELDS = ['patientId', 'patient_id', 'patientID', 'PatientID', 'mrn', 'MRN', 'medicalRecordNumber'];
const NAME_FIELDS = ['patientName', 'patient_name', 'PatientName', 'fullName', 'full_name'];
const NESTED = ['patient', 'Patient', 'patientDetails', 'patient_details', 'demographics', 'subject'];
const TIME_FIELDS = ['recordedAt', 'recorded_at', 'acquisitionTime', 'acquisition_time', 'acquiredAt', 'examDate', 'reportDate', 'createdAt'];

function pick(o: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = cleanText(o[n]);
    if (v) return v;
  }
  return undefined;
}

function nameParts(o: Record<string, unknown>): string | undefined {
  const first = pick(o, ['firstName', 'first_name', 'givenName', 'given_name']);
  const last = pick(o, ['lastName', 'last_name', 'familyName', 'family_name', 'surname']);
  return first || last ? [first, last].filter(Boolean).join(' ') : undefined;
}

/** A local `YYYY-MM-DDTHH:MM:SS` from an ISO-8601 string (converted when it carries a zone). */
function localIso(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(v.trim());
  if (!m) return undefined;
  if (!m[2]) return m[1];
  if (!m[3]) return `${m[1]}T${m[2].length === 5 ? `${m[2]}:00` : m[2]}`;
  const d = new Date(Date.parse(v.trim().replace(' ', 'T')));
  if (Number.isNaN(d.getTime())) return undefined;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Best-effort patient fields of an ECG JSON document (top level, or a nested `patient` object). */
export function ecgJsonFields(doc: unknown, fileName: string): RecordFields {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return {};
  const top = doc as Record<string, unknown>;
  const patientFile = /^patient[_-]?details/i.test(fileName);
  const out: RecordFields = {};
  for (const key of NESTED) {
    const nested = top[key];
    if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) continue;
    const o = nested as Record<string, unknown>;
    out.patientId ??= pick(o, [...ID_FIELDS, 'id']);
    out.patientName ??= pick(o, [...NAME_FIELDS, 'name']) ?? nameParts(o);
  }
  out.patientId ??= pick(top, ID_FIELDS);
  // A bare `name` is the patient's only in a patient-details file or beside a patient id.
  out.patientName ??= pick(top, NAME_FIELDS) ?? (patientFile || out.patientId ? pick(top, ['name']) ?? nameParts(top) : undefined);
  for (const f of TIME_FIELDS) {
    out.acquiredAt ??= localIso(top[f]);
  }
  return compact(out);
}

/** `ECG_Report_20240315_101500.pdf` → 2024-03-15T10:15:00. */
export function timeFromName(name: string): string | undefined {
  const m = /(?<!\d)(\d{4})(\d{2})(\d{2})[_T-](\d{2})(\d{2})(\d{2})(?!\d)/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` : undefined;
}

function compact(f: RecordFields): RecordFields {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as RecordFields;
}

/** The fields of one delivered file; `{}` when it cannot be read any more. */
export async function recordFields(path: string, kind: RecordKind, contentType: string): Promise<RecordFields> {
  const name = basename(path);
  try {
    if (kind === 'dicom') return await dicomFields(path);
    const fromName = timeFromName(name);
    if (contentType === 'application/json' || name.toLowerCase().endsWith('.json')) {
      const handle = await open(path, 'r');
      let text: string;
      try {
        const size = (await handle.stat()).size;
        if (size > JSON_MAX) return compact({ acquiredAt: fromName });
        text = (await readAt(handle, 0, size)).toString('utf8');
      } finally {
        await handle.close();
      }
      const f = ecgJsonFields(JSON.parse(text), name);
      return compact({ ...f, acquiredAt: f.acquiredAt ?? fromName });
    }
    return compact({ acquiredAt: fromName });
  } catch {
    return compact({ acquiredAt: timeFromName(name) });
  }
}
