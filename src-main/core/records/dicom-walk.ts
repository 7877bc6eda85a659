// Structural walk of a DICOM data set over a ByteSource: reads element headers only, skips values,
// follows undefined-length sequences and encapsulated pixel data to their delimiters, and proves that
// every byte the data set announces is present. Meanwhile it builds a "compact" copy of the top-level
// data set in which bulk values (pixel data, big sequences, encapsulated documents) are replaced by
// empty values, so that dicom-parser can read the attributes without the file being in memory.
import { EndOfData, type ByteSource } from './source.js';

export interface Encoding {
  explicit: boolean;
  littleEndian: boolean;
}

export const IMPLICIT_LE: Encoding = { explicit: false, littleEndian: true };

/** Why a walk stopped: the data is cut off (may still be being written) or is not valid DICOM. */
export class WalkProblem extends Error {
  constructor(readonly kind: 'truncated' | 'malformed', message: string) {
    super(message);
    this.name = 'WalkProblem';
  }
}

/** Top-level values up to this size are copied into the compact data set; bigger ones are emptied. */
export const BULK_VALUE = 256 * 1024;
/** Once the compact copy reaches this size, every further value bigger than 1 KiB is emptied. */
export const COMPACT_BUDGET = 16 * 1024 * 1024;
/** A data set whose attributes alone exceed this is not something we upload. */
const COMPACT_MAX = 64 * 1024 * 1024;
const MAX_DEPTH = 48;
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
// VRs with a 2-byte length in explicit VR; every other VR (OB, SQ, UN, UT, OV, …) has 2 reserved bytes and a 4-byte length.
const SHORT_VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US']);

export function tagName(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

interface Header {
  tag: number;
  vr: string | null;
  length: number;
  headerLength: number;
}

function allZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

async function readHeader(src: ByteSource, pos: number, enc: Encoding): Promise<Header> {
  const b = await src.read(pos, 8);
  const view = new DataView(b.buffer, b.byteOffset, 8);
  const le = enc.littleEndian;
  const tag = ((view.getUint16(0, le) << 16) | view.getUint16(2, le)) >>> 0;
  if (tag >>> 16 === 0xfffe) return { tag, vr: null, length: view.getUint32(4, le), headerLength: 8 };
  if (tag >>> 16 === 0x0000) {
    if (allZero(b)) throw new WalkProblem('truncated', `zero bytes instead of a DICOM element at byte ${pos} (the file may still be being written)`);
    throw new WalkProblem('malformed', `invalid element ${tagName(tag)} at byte ${pos}`);
  }
  if (!enc.explicit) return { tag, vr: null, length: view.getUint32(4, le), headerLength: 8 };
  const vr = String.fromCharCode(b[4]!, b[5]!);
  if (!/^[A-Z]{2}$/.test(vr)) {
    throw new WalkProblem('malformed', `element ${tagName(tag)} at byte ${pos} has no valid value representation`);
  }
  if (SHORT_VRS.has(vr)) return { tag, vr, length: view.getUint16(6, le), headerLength: 8 };
  const l = await src.read(pos + 8, 4);
  return { tag, vr, length: new DataView(l.buffer, l.byteOffset, 4).getUint32(0, le), headerLength: 12 };
}

/** Walks one element at `pos` and returns the position just after it. */
async function walkElement(src: ByteSource, pos: number, enc: Encoding, depth: number): Promise<{ end: number; header: Header }> {
  const header = await readHeader(src, pos, enc);
  const valueStart = pos + header.headerLength;
  if (header.length !== UNDEFINED) {
    const end = valueStart + header.length;
    if (end > src.size) throw new EndOfData(valueStart, header.length, src.size);
    return { end, header };
  }
  // Undefined length: a sequence of items up to (FFFE,E0DD). The items of a UN element of undefined
  // length are encoded in Implicit VR Little Endian (PS3.5 6.2.2).
  const inner = enc.explicit && header.vr === 'UN' ? IMPLICIT_LE : enc;
  return { end: await walkItems(src, valueStart, inner, depth + 1, header.tag), header };
}

async function walkItems(src: ByteSource, pos: number, enc: Encoding, depth: number, owner: number): Promise<number> {
  if (depth > MAX_DEPTH) throw new WalkProblem('malformed', `sequences nested more than ${MAX_DEPTH} deep`);
  for (;;) {
    const h = await readHeader(src, pos, enc);
    if (h.tag === SEQUENCE_END) return pos + 8;
    if (h.tag !== ITEM) {
      throw new WalkProblem('malformed', `unexpected element ${tagName(h.tag)} at byte ${pos} inside ${tagName(owner)}`);
    }
    if (h.length !== UNDEFINED) {
      const end = pos + 8 + h.length;
      if (end > src.size) throw new EndOfData(pos + 8, h.length, src.size);
      pos = end;
    } else {
      pos = await walkItemDataSet(src, pos + 8, enc, depth + 1);
    }
  }
}

async function walkItemDataSet(src: ByteSource, pos: number, enc: Encoding, depth: number): Promise<number> {
  for (;;) {
    const h = await readHeader(src, pos, enc);
    if (h.tag === ITEM_END) return pos + 8;
    pos = (await walkElement(src, pos, enc, depth)).end;
  }
}

export interface WalkedDataSet {
  /** The top-level data set with bulk values emptied, ready to append to the file's meta header. */
  compact: Uint8Array[];
  elements: number;
  emptied: number;
  /** Tag of the last top-level element (0 if none). */
  lastTag: number;
}

/**
 * Walks the top-level data set from `start` to the end of `src`. Throws WalkProblem; a read past the
 * end (EndOfData) becomes a 'truncated' problem naming the element that is cut off.
 */
export async function walkDataSet(src: ByteSource, start: number, enc: Encoding): Promise<WalkedDataSet> {
  const out: WalkedDataSet = { compact: [], elements: 0, emptied: 0, lastTag: 0 };
  let copied = 0;
  let pos = start;
  while (pos < src.size) {
    let walked: { end: number; header: Header };
    try {
      walked = await walkElement(src, pos, enc, 0);
    } catch (e) {
      if (!(e instanceof EndOfData)) throw e;
      const what = src.size - pos < 12 ? `an element header at byte ${pos}` : await describeAt(src, pos, enc);
      throw new WalkProblem('truncated', `the data set is cut off: ${what} continues past the end of the data (${src.size} bytes)`);
    }
    const { end, header } = walked;
    if (header.tag === SEQUENCE_END || header.tag === ITEM_END) {
      pos = end; // a stray delimiter between top-level elements: harmless, leave it out of the copy
      continue;
    }
    if (header.tag === ITEM) throw new WalkProblem('malformed', `item ${tagName(header.tag)} outside a sequence at byte ${pos}`);
    const total = end - pos;
    if (copied > COMPACT_MAX) throw new WalkProblem('malformed', `more than ${COMPACT_MAX / 1048576} MB of attributes besides bulk data`);
    const limit = copied < COMPACT_BUDGET ? BULK_VALUE : 1024;
    if (total <= limit) {
      out.compact.push(Uint8Array.from(await src.read(pos, total)));
      copied += total;
    } else {
      const head = Uint8Array.from(await src.read(pos, header.headerLength));
      // Defined length 0: an empty value of the same VR (2-byte length field for short explicit VRs).
      head.fill(0, header.vr !== null && header.headerLength === 8 ? 6 : header.headerLength - 4);
      out.compact.push(head);
      copied += head.length;
      out.emptied++;
    }
    out.elements++;
    out.lastTag = header.tag;
    pos = end;
  }
  return out;
}

async function describeAt(src: ByteSource, pos: number, enc: Encoding): Promise<string> {
  try {
    const h = await readHeader(src, pos, enc);
    return h.length === UNDEFINED
      ? `element ${tagName(h.tag)} at byte ${pos} (no sequence delimitation item (FFFE,E0DD) before the end)`
      : `element ${tagName(h.tag)} at byte ${pos} (${h.length} bytes of value)`;
  } catch {
    return `the element at byte ${pos}`;
  }
}
