// Grouping stored files into records the way the clinic thinks: an ECG package folder is one
// record; a report PDF and its JSON sidecar (same name, other extension) are one; DICOM instances
// group into series and studies; anything else is a record of its own. Pure functions.
import type { CatalogFile, CatalogRecord, DicomSeries } from '../../../src-shared/api.js';
import type { RecordKind } from '../../../src-shared/keys.js';
import type { IndexEntry } from './entry.js';
import { timeFromName } from './fields.js';
import type { KeyParts } from './key-parts.js';

/** One stored file with what the listing, its cleartext metadata and its index entry say. */
export interface FileRow {
  key: string;
  date: string;
  kind: RecordKind | 'unknown';
  storedSize: number;
  lastModified: number;
  workstation: string | null;
  uploadedAt: string | null;
  entry: IndexEntry | null;
}

function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The record a file belongs to: the same id for every file of one package, report or study. */
export function recordIdOf(key: string, date: string, parts: KeyParts | null, entry: IndexEntry | null): string {
  if (!parts) return `object:${key}`;
  switch (parts.kind) {
    case 'dicom': {
      const study = entry?.studyUid ?? parts.studyUid;
      return study ? `study:${date}:${study}` : `object:${key}`;
    }
    case 'ecg-package':
      return `package:${parts.folder}`;
    case 'ecg-report':
      // Under {opaque} keys the sidecar's key differs; the original name in the entry still pairs them.
      return `report:${parts.folder}/${stem(entry?.fileName ?? parts.fileName)}`;
    default:
      return `file:${key}`;
  }
}

function fileOf(r: FileRow): CatalogFile {
  const e = r.entry;
  return {
    key: r.key, fileName: e?.fileName ?? r.key.slice(r.key.lastIndexOf('/') + 1), kind: r.kind, storedSize: r.storedSize,
    size: e?.size ?? null, sha256: e?.sha256 ?? null, contentType: e?.contentType ?? null,
    uploadedAt: e?.uploadedAt ?? r.uploadedAt ?? new Date(r.lastModified).toISOString(),
    workstation: e?.workstation ?? r.workstation, seriesUid: e?.seriesUid ?? null,
  };
}

const ORDER: Record<string, number> = { pdf: 0, json: 1 };
const ext = (n: string) => n.slice(n.lastIndexOf('.') + 1).toLowerCase();

function first<T>(values: (T | undefined | null)[]): T | null {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v;
  return null;
}

/** One record from the files that share its id. */
export function buildRecord(id: string, rows: FileRow[], partsOf: (key: string) => KeyParts | null): CatalogRecord {
  const files = rows.map(fileOf).sort((a, b) =>
    (ORDER[ext(a.fileName)] ?? 2) - (ORDER[ext(b.fileName)] ?? 2) || a.fileName.localeCompare(b.fileName) || a.key.localeCompare(b.key));
  const entries = rows.map((r) => r.entry).filter((e): e is IndexEntry => e !== null);
  const kind = rows[0]!.kind;
  const series = new Map<string, DicomSeries>();
  if (kind === 'dicom') {
    for (const r of rows) {
      const uid = r.entry?.seriesUid ?? partsOf(r.key)?.seriesUid ?? '';
      const s = series.get(uid) ?? { uid, modality: null, description: null, instances: 0 };
      s.instances++;
      s.modality ??= r.entry?.modality ?? null;
      s.description ??= r.entry?.seriesDescription ?? null;
      series.set(uid, s);
    }
  }
  const times = [...entries.map((e) => e.acquiredAt), ...files.map((f) => timeFromName(f.fileName))].filter((t): t is string => !!t).sort();
  const parts = partsOf(rows[0]!.key);
  const studyDescription = first(entries.map((e) => e.studyDescription));
  const title = kind === 'dicom' ? studyDescription ?? `Study ${first(entries.map((e) => e.studyUid)) ?? parts?.studyUid ?? ''}`.trim()
    : kind === 'ecg-package' ? `ECG package ${parts?.packageName ?? first(entries.map((e) => e.packageName)) ?? ''}`.trim()
      : kind === 'ecg-report' ? stem(files[0]!.fileName)
        : files[0]!.fileName;
  return {
    id, kind, date: rows[0]!.date, title,
    patientId: first(entries.map((e) => e.patientId)),
    patientName: first(entries.map((e) => e.patientName)),
    studyDescription,
    modalities: [...new Set(entries.map((e) => e.modality).filter((m): m is string => !!m))].sort(),
    acquiredAt: times[0] ?? null,
    uploadedAt: files.map((f) => f.uploadedAt).sort().at(-1)!,
    workstations: [...new Set(files.map((f) => f.workstation).filter((w): w is string => !!w))].sort(),
    indexed: entries.length === rows.length,
    files,
    series: [...series.values()].sort((a, b) => a.uid.localeCompare(b.uid)),
  };
}

/** Groups rows (each with its record id) into records, in time order (acquisition, else upload). */
export function groupRecords(rows: (FileRow & { recordId: string })[], partsOf: (key: string) => KeyParts | null): CatalogRecord[] {
  const byId = new Map<string, FileRow[]>();
  for (const r of rows) {
    const list = byId.get(r.recordId);
    if (list) list.push(r);
    else byId.set(r.recordId, [r]);
  }
  const records = [...byId].map(([id, list]) => buildRecord(id, list, partsOf));
  const when = (r: CatalogRecord) => r.acquiredAt ?? r.uploadedAt;
  return records.sort((a, b) => a.date.localeCompare(b.date) || when(a).localeCompare(when(b)) || a.id.localeCompare(b.id));
}
