// The encrypted day index: what one entry says about one stored file, and where index objects live.
// An index object is written once and never overwritten: `index/YYYY/MM/DD/<workstation>/<id>.idx`
// under the store prefix, so a day's entries are one listing and workstations never collide.
// Entries hold PHI (patient name and ID), so an index object is encrypted like a record (see
// index-crypto.ts); its key and cleartext metadata hold none.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RECORD_KINDS } from '../../../src-shared/keys.js';

export const INDEX_ROOT = 'index';
export const INDEX_SUFFIX = '.idx';
/** `medrelay-kind` of index objects. */
export const INDEX_KIND = 'index';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const text = z.string().max(1024);

export const indexEntrySchema = z.object({
  /** Object key of the stored file. */
  key: z.string().min(1).max(1024),
  kind: z.enum(RECORD_KINDS as [string, ...string[]]),
  /** The record's own date (the day the key is filed under). */
  date: z.string().regex(DATE),
  /** The source file's own name (under an {opaque} template, the only place it is kept). */
  fileName: text,
  /** Plaintext size and SHA-256 of the file. */
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: text.optional(),
  uploadedAt: z.string().max(40),
  workstation: text,
  patientId: text.optional(),
  patientName: text.optional(),
  studyDescription: text.optional(),
  seriesDescription: text.optional(),
  modality: text.optional(),
  /** Local date and time of acquisition, `YYYY-MM-DDTHH:MM:SS` (seconds optional). */
  acquiredAt: text.optional(),
  studyUid: text.optional(),
  seriesUid: text.optional(),
  sopUid: text.optional(),
  packageName: text.optional(),
});
export type IndexEntry = z.infer<typeof indexEntrySchema>;

/** The plaintext of one index object: entries of one day from one workstation. */
export const indexDocumentSchema = z.object({
  medrelayIndex: z.literal(1),
  date: z.string().regex(DATE),
  workstation: text,
  entries: z.array(indexEntrySchema).max(100_000),
  /**
   * A pack repeats the entries of earlier, small index objects of the same day and workstation,
   * so that a reader fetches one object instead of each of those; these are their keys.
   */
  covers: z.array(z.string().max(1024)).max(10_000).optional(),
});
export type IndexDocument = z.infer<typeof indexDocumentSchema>;

function joinPrefix(prefix: string, rest: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${rest}` : rest;
}

/** A workstation id as one safe key segment (ids are settings, not PHI). */
export function workstationSegment(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 64);
  return s || '_';
}

/** `index/` under the store prefix: the calendar lists below it like a record template. */
export function indexRoot(prefix = ''): string {
  return joinPrefix(prefix, `${INDEX_ROOT}/`);
}

/** The prefix of one day's index objects, from every workstation. */
export function indexDayPrefix(date: string, prefix = ''): string {
  const d = DATE.exec(date);
  if (!d) throw new Error(`date "${date}" is not YYYY-MM-DD`);
  return joinPrefix(prefix, `${INDEX_ROOT}/${d[1]}/${d[2]}/${d[3]}/`);
}

export const PACK_SUFFIX = `.pack${INDEX_SUFFIX}`;

/** A new, unique index object key: time first (entries sort by writing time), then randomness. */
export function newIndexKey(date: string, workstationId: string, prefix = '', now = Date.now(), pack = false): string {
  const id = `${now.toString(36).padStart(9, '0')}-${randomBytes(8).toString('hex')}`;
  return `${indexDayPrefix(date, prefix)}${workstationSegment(workstationId)}/${id}${pack ? PACK_SUFFIX : INDEX_SUFFIX}`;
}

/** The folder of one workstation's index objects of one day (what a pack may cover). */
export function indexFolderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** The day an index object key belongs to, or null for a key that is not one. */
export function indexKeyDate(key: string, prefix = ''): string | null {
  const root = indexRoot(prefix);
  if (!key.startsWith(root) || !key.endsWith(INDEX_SUFFIX)) return null;
  const m = /^(\d{4})\/(\d{2})\/(\d{2})\/[^/]+\/[^/]+$/.exec(key.slice(root.length));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}
