// Real files for the records tests: temp folders, a hand-written PDF, and DICOM files built byte by byte.
import { mkdtemp, open, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspectFile, type Inspection, type WatchKind } from '../../../src-main/core/records/inspect.js';
import { dicomElement } from '../../../src-main/core/demo/dicom-sample.js';
import { samplePdf } from '../../../src-main/core/demo/samples.js';

export const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'medrelay-records-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes a file (creating its folder) and returns its path. */
export async function put(dir: string, relative: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, relative);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return path;
}

/** inspectFile with the size and mtime the watcher would pass. */
export async function inspect(path: string, watchKind: WatchKind = 'auto', mtimeMs?: number): Promise<Inspection> {
  const s = await stat(path);
  return inspectFile(path, { watchKind, mtimeMs: mtimeMs ?? s.mtimeMs, size: s.size });
}

/** A minimal valid one-page PDF (no PHI), with a correct xref table. */
export function minimalPdf(): Buffer {
  return samplePdf('test');
}

// --- DICOM, Explicit VR Little Endian, built by hand -------------------------------------------

/** One Explicit VR Little Endian element header (+ value when given). */
export const element = dicomElement;

export function itemHeader(elem: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(elem, 2);
  h.writeUInt32LE(length >>> 0, 4);
  return h;
}

const US = (n: number) => Buffer.from([n & 0xff, n >> 8]);

export interface SyntheticDicom {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  studyDate?: string;
  transferSyntax?: string;
}

/** Preamble, DICM, meta header and the attributes of a small secondary-capture image, up to (not including) its pixel data. */
export function dicomHeader(d: SyntheticDicom): Buffer {
  const sopClass = '1.2.840.10008.5.1.4.1.1.7';
  const ts = d.transferSyntax ?? '1.2.840.10008.1.2.1';
  const metaElements = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', sopClass),
    element(0x0002, 0x0003, 'UI', d.sopUid),
    element(0x0002, 0x0010, 'UI', ts),
    element(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.99.1'),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaElements.length);
  return Buffer.concat([
    Buffer.alloc(128), Buffer.from('DICM', 'latin1'),
    element(0x0002, 0x0000, 'UL', groupLength), metaElements,
    element(0x0008, 0x0016, 'UI', sopClass),
    element(0x0008, 0x0018, 'UI', d.sopUid),
    ...(d.studyDate ? [element(0x0008, 0x0020, 'DA', d.studyDate)] : []),
    element(0x0008, 0x0060, 'CS', 'OT'),
    element(0x0020, 0x000d, 'UI', d.studyUid),
    element(0x0020, 0x000e, 'UI', d.seriesUid),
    element(0x0028, 0x0002, 'US', US(1)),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', US(4096)),
    element(0x0028, 0x0011, 'US', US(7680)),
    element(0x0028, 0x0100, 'US', US(16)),
    element(0x0028, 0x0101, 'US', US(16)),
    element(0x0028, 0x0102, 'US', US(15)),
    element(0x0028, 0x0103, 'US', US(0)),
  ]);
}

/**
 * A large DICOM file whose pixel data is zeros: the file is extended with truncate(), so it is
 * written quickly (and sparse where the file system allows). `fragments` > 0 encapsulates the
 * pixel data in that many items of `pixelBytes / fragments` bytes each.
 */
export async function writeLargeDicom(path: string, d: SyntheticDicom, pixelBytes: number, fragments = 0): Promise<number> {
  const handle = await open(path, 'w');
  try {
    let pos = 0;
    const write = async (b: Buffer) => {
      await handle.write(b, 0, b.length, pos);
      pos += b.length;
    };
    await write(dicomHeader(d));
    if (fragments === 0) {
      await write(element(0x7fe0, 0x0010, 'OW', Buffer.alloc(0), pixelBytes));
      pos += pixelBytes;
    } else {
      const each = Math.floor(pixelBytes / fragments / 2) * 2;
      await write(element(0x7fe0, 0x0010, 'OB', Buffer.alloc(0), 0xffffffff));
      await write(itemHeader(0xe000, 0)); // empty basic offset table
      for (let i = 0; i < fragments; i++) {
        await write(itemHeader(0xe000, each));
        pos += each;
      }
      await write(itemHeader(0xe0dd, 0));
    }
    await handle.truncate(pos);
    return pos;
  } finally {
    await handle.close();
  }
}
