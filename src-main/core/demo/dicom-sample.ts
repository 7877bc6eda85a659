// Writes small, valid DICOM Part 10 files (explicit VR little endian) with made-up content:
// sample records for the demo profile, tests and the benchmark. No real patient data.

export interface SampleDicom {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  /** YYYYMMDD */
  studyDate: string;
  modality?: string;
  patientName?: string;
  patientId?: string;
  /** Bytes of pixel data that follow the header (OB). Even. */
  pixelBytes: number;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

/** One Explicit VR Little Endian element (header + value padded to even length). */
export function dicomElement(group: number, elem: number, vr: string, value: Buffer | string, lengthOverride?: number): Buffer {
  let v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  if (v.length % 2) v = Buffer.concat([v, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
  const length = lengthOverride ?? v.length;
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(length, 8);
  else head.writeUInt16LE(length, 6);
  return Buffer.concat([head, v]);
}

function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** Everything up to and including the pixel data element's header; `pixelBytes` bytes must follow. */
export function dicomHeader(s: SampleDicom): Buffer {
  if (s.pixelBytes % 2) throw new Error('pixelBytes must be even');
  const meta = Buffer.concat([
    dicomElement(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    dicomElement(0x0002, 0x0002, 'UI', SECONDARY_CAPTURE),
    dicomElement(0x0002, 0x0003, 'UI', s.sopUid),
    dicomElement(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
    dicomElement(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.10.1234.1'),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  const side = Math.max(1, Math.floor(Math.sqrt(s.pixelBytes)));
  const dataset = Buffer.concat([
    dicomElement(0x0008, 0x0016, 'UI', SECONDARY_CAPTURE),
    dicomElement(0x0008, 0x0018, 'UI', s.sopUid),
    dicomElement(0x0008, 0x0020, 'DA', s.studyDate),
    dicomElement(0x0008, 0x0060, 'CS', s.modality ?? 'OT'),
    dicomElement(0x0010, 0x0010, 'PN', s.patientName ?? 'DEMO^PATIENT'),
    dicomElement(0x0010, 0x0020, 'LO', s.patientId ?? 'DEMO-0001'),
    dicomElement(0x0020, 0x000d, 'UI', s.studyUid),
    dicomElement(0x0020, 0x000e, 'UI', s.seriesUid),
    dicomElement(0x0028, 0x0002, 'US', us(1)),
    dicomElement(0x0028, 0x0010, 'US', us(side)),
    dicomElement(0x0028, 0x0011, 'US', us(side)),
    dicomElement(0x0028, 0x0100, 'US', us(8)),
    dicomElement(0x0028, 0x0101, 'US', us(8)),
    dicomElement(0x0028, 0x0102, 'US', us(7)),
    dicomElement(0x0028, 0x0103, 'US', us(0)),
    dicomElement(0x7fe0, 0x0010, 'OB', Buffer.alloc(0), s.pixelBytes),
  ]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), dicomElement(0x0002, 0x0000, 'UL', groupLength), meta, dataset]);
}

/** A whole small file in memory (header + deterministic pixel bytes). */
export function sampleDicom(s: SampleDicom): Buffer {
  const pixels = Buffer.alloc(s.pixelBytes);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + 7) & 0xff;
  return Buffer.concat([dicomHeader(s), pixels]);
}
