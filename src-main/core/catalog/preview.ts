// A record's original bytes in memory, for the renderer's preview (PDF, ECG JSON, DICOM): fetched,
// decrypted and, for opaque-named objects, stripped of the name header, without a byte of
// plaintext on disk. Bounded: a record above the limit must be saved instead.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RecordBytes } from '../../../src-shared/api.js';
import { DecryptError, decrypting, describeDecryptFailure, stripNamedHeader } from '../crypto/envelope.js';
import type { RecordReader } from '../store/record-reader.js';
import { METADATA, StoreError, type ObjectStore } from '../store/types.js';

export const PREVIEW_DEFAULT_BYTES = 32 * 1024 * 1024;
export const PREVIEW_MAX_BYTES = 128 * 1024 * 1024;

const TYPES: Record<string, string> = { pdf: 'application/pdf', json: 'application/json', dcm: 'application/dicom', dicom: 'application/dicom' };

export function contentTypeOf(fileName: string, key: string): string {
  const dot = fileName.lastIndexOf('.');
  const ext = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
  return TYPES[ext] ?? (key.endsWith('.dcm') ? 'application/dicom' : 'application/octet-stream');
}

class TooLarge extends Error {}

export async function recordBytes(store: ObjectStore, keyring: () => Promise<KeyringNode | null>, key: string, maxBytes = PREVIEW_DEFAULT_BYTES): Promise<RecordBytes> {
  const cap = Math.min(Math.max(1, maxBytes), PREVIEW_MAX_BYTES);
  const where = `${store.location}/${key}`;
  const { body, info } = await store.get(key);
  // Ciphertext is the plaintext plus a header and 28 bytes per 1 MiB frame.
  if (info.size > cap + 64 * 1024 + Math.ceil(cap / 1048576) * 28) {
    body.destroy();
    throw new StoreError('bad-input', `${where} is ${info.size} bytes, more than the preview limit of ${cap} bytes; save it instead`, false);
  }
  const format = info.metadata?.[METADATA.format] ?? 'plain';
  const stages: NodeJS.ReadWriteStream[] = [];
  let originalName: string | null = null;
  if (format !== 'plain') {
    const k = await keyring();
    if (!k) { body.destroy(); throw new DecryptError(`${where} is encrypted and this machine holds no key; import one with "medrelay keys import"`); }
    stages.push(decrypting(k));
    if (format === 'esdk2-named') stages.push(stripNamedHeader((h) => { originalName = h.originalName; }));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > cap) return done(new TooLarge());
      chunks.push(chunk);
      done();
    },
  });
  try {
    await pipeline([body, ...stages, sink]);
  } catch (e) {
    if (e instanceof TooLarge) throw new StoreError('bad-input', `${where} is larger than the preview limit of ${cap} bytes; save it instead`, false);
    if (e instanceof DecryptError || e instanceof StoreError) throw e;
    throw describeDecryptFailure(e, where);
  }
  const fileName = originalName ?? key.slice(key.lastIndexOf('/') + 1);
  const bytes = Buffer.concat(chunks);
  return { key, fileName, contentType: contentTypeOf(fileName, key), size: bytes.length, base64: bytes.toString('base64') };
}

/** Decrypts a record to a new file the user chose; an existing file is never replaced. */
export async function saveRecordAs(records: RecordReader, key: string, path: string): Promise<{ path: string; originalName: string | null }> {
  if (!isAbsolute(path)) throw new StoreError('bad-input', `save path "${path}" must be absolute`, false);
  if (existsSync(path)) throw new StoreError('conflict', `${path} already exists; choose another name`, false);
  const { originalName } = await records.save(key, path);
  return { path, originalName };
}
