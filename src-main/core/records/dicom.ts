// DICOM Part 10: is the file complete, and what are its UIDs and date? dicom-parser reads the
// preamble, meta header and attributes; our walker (dicom-walk.ts) proves that the whole data set is
// present, because dicom-parser does not: on cut-off input it may throw (strings, Errors, or
// { exception, dataSet } objects) or silently return a data set whose last element runs past the end.
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { dateFromDicomDA } from './dates.js';
import { tagName, walkDataSet, WalkProblem, type Encoding, type WalkedDataSet } from './dicom-walk.js';
import { BufferSource, FileSource, readAt, type ByteSource, type ReadHandle } from './source.js';

export type DicomCheck =
  | { status: 'complete'; studyUid: string; seriesUid: string; sopUid: string; date: string | null }
  | { status: 'incomplete'; reason: string }
  | { status: 'rejected'; reason: string };

/** Optional counters, filled in for tests and diagnostics. */
export interface DicomStats {
  bytesRead: number;
}

const PREAMBLE = 132;
const HEAD = 64 * 1024;
const MAX_HEAD = 4 * 1024 * 1024;
const DEFLATED_MAX_FILE = 32 * 1024 * 1024;
const INFLATED_MAX = 128 * 1024 * 1024;
const DEFLATED = '1.2.840.10008.1.2.1.99';
const UID = /^[0-9]+(\.[0-9]+)*$/;

function encodingOf(transferSyntax: string): Encoding {
  if (transferSyntax === '1.2.840.10008.1.2') return { explicit: false, littleEndian: true };
  if (transferSyntax === '1.2.840.10008.1.2.2') return { explicit: true, littleEndian: false };
  return { explicit: true, littleEndian: true };
}

/** A readable sentence from whatever dicom-parser threw. */
export function describeParserError(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'exception' in e) return describeParserError((e as { exception: unknown }).exception);
  return String(e);
}

function clean(value: string | undefined): string {
  return (value ?? '').replace(/^[\s\0]+|[\s\0]+$/g, '');
}

interface Meta {
  transferSyntax: string;
  /** Media Storage SOP Class UID (0002,0002). */
  sopClass: string;
  dataSetStart: number;
  head: Buffer;
}

/** End of the meta header announced by File Meta Information Group Length (0002,0000), if present. */
function announcedMetaEnd(head: Buffer): number | null {
  if (head.length < 144) return null;
  const isGroupLength = head.readUInt32LE(132) === 0x00000002 && head.toString('latin1', 136, 138) === 'UL' && head.readUInt16LE(138) === 4;
  return isGroupLength ? 144 + head.readUInt32LE(140) : null;
}

function parseMeta(head: Buffer): { meta: DataSet & { position?: number }; problem: null } | { meta: null; problem: string } {
  try {
    const meta: DataSet & { position?: number } = dicomParser.readPart10Header(head);
    if (meta.position === undefined || meta.position > head.length) return { meta: null, problem: 'an element runs past the data read' };
    return { meta, problem: null };
  } catch (e) {
    return { meta: null, problem: describeParserError(e) };
  }
}

async function readMeta(handle: ReadHandle, size: number, name: string, stats: DicomStats): Promise<Meta | DicomCheck> {
  let headSize = Math.min(size, HEAD);
  for (;;) {
    const head = await readAt(handle, 0, headSize);
    stats.bytesRead += head.length;
    if (head.length < headSize) return { status: 'incomplete', reason: `${name} became shorter while being read` };
    const announced = announcedMetaEnd(head);
    if (announced !== null && announced > size) return { status: 'incomplete', reason: `the file meta information of ${name} is cut off` };
    if (announced !== null && announced > head.length && announced <= MAX_HEAD) {
      headSize = announced;
      continue;
    }
    // With a group length, dicom-parser reads exactly the meta header (it otherwise reads on while the
    // tags look like group 0002 or lower); without one, or if the group length is wrong, it finds the end.
    let parsed = announced !== null && announced <= head.length ? parseMeta(head.subarray(0, announced)) : null;
    if (parsed?.meta && parsed.meta.position !== announced) parsed = null;
    parsed ??= parseMeta(head);
    if (parsed.problem !== null) {
      if (headSize < size && headSize < MAX_HEAD) {
        headSize = Math.min(size, MAX_HEAD);
        continue;
      }
      if (headSize === size) return { status: 'incomplete', reason: `the file meta information of ${name} is cut off (${parsed.problem})` };
      return { status: 'rejected', reason: `the file meta information of ${name} cannot be read: ${parsed.problem}` };
    }
    const meta = parsed.meta!;
    const transferSyntax = clean(meta.string('x00020010'));
    const dataSetStart = meta.position!;
    if (!transferSyntax) {
      if (dataSetStart >= size) return { status: 'incomplete', reason: `the file meta information of ${name} has no Transfer Syntax UID (0002,0010) yet` };
      return { status: 'rejected', reason: `${name} has no Transfer Syntax UID (0002,0010) in its file meta information` };
    }
    if (dataSetStart >= size) return { status: 'incomplete', reason: `${name} has no data set after its file meta information yet` };
    return { transferSyntax, sopClass: clean(meta.string('x00020002')), dataSetStart, head: head.subarray(0, dataSetStart) };
  }
}

async function inflate(handle: ReadHandle, meta: Meta, size: number, name: string, stats: DicomStats): Promise<ByteSource | DicomCheck> {
  if (size > DEFLATED_MAX_FILE) {
    return { status: 'rejected', reason: `${name} uses the Deflated transfer syntax and is larger than ${DEFLATED_MAX_FILE / 1048576} MB` };
  }
  const body = await readAt(handle, meta.dataSetStart, size - meta.dataSetStart);
  stats.bytesRead += body.length;
  try {
    return new BufferSource(inflateRawSync(body, { maxOutputLength: INFLATED_MAX }));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'Z_BUF_ERROR') return { status: 'incomplete', reason: `the deflated data set of ${name} is cut off` };
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      return { status: 'rejected', reason: `the deflated data set of ${name} inflates to more than ${INFLATED_MAX / 1048576} MB` };
    }
    return { status: 'rejected', reason: `the deflated data set of ${name} is corrupt: ${(e as Error).message}` };
  }
}

/** Checks a DICOM Part 10 file without reading its bulk data, and reads its UIDs and date. */
export async function checkDicom(handle: ReadHandle, size: number, name: string, stats: DicomStats = { bytesRead: 0 }): Promise<DicomCheck> {
  if (size === 0) return { status: 'incomplete', reason: `${name} is empty` };
  if (size < PREAMBLE) return { status: 'incomplete', reason: `${name} is shorter than the 132-byte DICOM preamble` };
  const magic = await readAt(handle, 128, 4);
  if (magic.toString('latin1') !== 'DICM') {
    if (magic.every((b) => b === 0)) return { status: 'incomplete', reason: `${name} has no "DICM" at byte 128 yet (zero bytes)` };
    return { status: 'rejected', reason: `${name} is not a DICOM Part 10 file (no "DICM" at byte 128)` };
  }
  const meta = await readMeta(handle, size, name, stats);
  if ('status' in meta) return meta;

  const deflated = meta.transferSyntax === DEFLATED;
  let source: ByteSource;
  let start = meta.dataSetStart;
  if (deflated) {
    const inflated = await inflate(handle, meta, size, name, stats);
    if ('status' in inflated) return inflated;
    source = inflated;
    start = 0;
  } else {
    source = new FileSource(handle, size);
  }

  let walked: WalkedDataSet;
  try {
    walked = await walkDataSet(source, start, encodingOf(meta.transferSyntax));
    if (walked.elements === 0) return { status: 'incomplete', reason: `${name} has no data elements after its file meta information yet` };
  } catch (e) {
    if (e instanceof WalkProblem) {
      return { status: e.kind === 'truncated' ? 'incomplete' : 'rejected', reason: `${name}: ${e.message}` };
    }
    throw e;
  } finally {
    if (source instanceof FileSource) stats.bytesRead += source.bytesRead;
  }

  // The compact copy: the original preamble and meta header, then the data set without bulk values.
  // For the Deflated transfer syntax it holds the inflated data set, so the inflater hands it back as is.
  const compact = Buffer.concat([meta.head, ...walked.compact]);
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(compact, deflated ? { inflater: (bytes: Uint8Array) => bytes } : {});
  } catch (e) {
    return { status: 'rejected', reason: `dicom-parser cannot read the data set of ${name}: ${describeParserError(e)}` };
  }
  return classify(ds, name, meta.sopClass, walked.lastTag);
}

// SOP classes whose instances always carry Pixel Data (PS3.4 B.5): CR, DX/MG/IO, CT, US, MR, SC,
// XA/XRF, NM, SEG, VL endoscopic/microscopic/photographic, PET, RT Image. Not a complete list: it
// only has to catch a file that stopped, on an element boundary, before its pixel data.
const PIXEL_SOP_CLASS = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.(1|1\.1|1\.1\.1|1\.2|1\.2\.1|1\.3|1\.3\.1|2|2\.1|2\.2|3\.1|4|4\.1|4\.3|4\.4|6\.1|6\.2|7|7\.[1-4]|12\.1|12\.1\.1|12\.2|12\.2\.1|20|66\.4|77\.1\.[124]|128|128\.1|130|481\.1)$/;
const SERIES_UID_TAG = 0x0020000e;
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

/** Why a walked, parsed data set still looks unfinished, or null. */
function missingPayload(ds: DataSet, name: string, sopClass: string): string | null {
  const has = (tag: string) => ds.elements[tag] !== undefined;
  const pixels = has('x7fe00010') || has('x7fe00008') || has('x7fe00009');
  // A writer can stop exactly between two elements; these attributes announce data that must follow.
  if (!pixels && (has('x00280010') || PIXEL_SOP_CLASS.test(sopClass))) return `${name} has no Pixel Data (7FE0,0010) yet`;
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.104.') && !has('x00420011')) {
    return `${name} is an encapsulated document without its Encapsulated Document (0042,0011) yet`;
  }
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.9.') && !has('x54000100')) return `${name} is a waveform without its Waveform Sequence (5400,0100) yet`;
  return null;
}

function classify(ds: DataSet, name: string, metaSopClass: string, lastTag: number): DicomCheck {
  const sopClass = metaSopClass || clean(ds.string('x00080016'));
  if (sopClass === MEDIA_STORAGE_DIRECTORY) return { status: 'rejected', reason: `${name} is a DICOMDIR (media directory), not a record` };
  const unfinished = missingPayload(ds, name, sopClass);
  if (unfinished) return { status: 'incomplete', reason: unfinished };

  const uids = {
    studyUid: clean(ds.string('x0020000d')),
    seriesUid: clean(ds.string('x0020000e')),
    sopUid: clean(ds.string('x00080018')),
  };
  const labels = { studyUid: 'StudyInstanceUID (0020,000D)', seriesUid: 'SeriesInstanceUID (0020,000E)', sopUid: 'SOPInstanceUID (0008,0018)' };
  const missing = (Object.keys(uids) as (keyof typeof uids)[]).filter((k) => !uids[k]);
  if (missing.length > 0) {
    const list = missing.map((k) => labels[k]).join(', ');
    // Tags ascend: a data set that stops before (0020,000E) may simply not be written to the end yet.
    if (lastTag < SERIES_UID_TAG) {
      return { status: 'incomplete', reason: `${name} ends at ${tagName(lastTag)} without ${list} yet` };
    }
    return { status: 'rejected', reason: `${name} has no ${list}` };
  }
  for (const k of Object.keys(uids) as (keyof typeof uids)[]) {
    if (!UID.test(uids[k]) || uids[k].length > 64) {
      return { status: 'rejected', reason: `${labels[k]} of ${name} is not a valid DICOM UID` };
    }
  }
  let date: string | null = null;
  // StudyDate, ContentDate, SeriesDate, AcquisitionDate.
  for (const tag of ['x00080020', 'x00080023', 'x00080021', 'x00080022']) {
    date = dateFromDicomDA(ds.string(tag));
    if (date) break;
  }
  return { status: 'complete', ...uids, date };
}
