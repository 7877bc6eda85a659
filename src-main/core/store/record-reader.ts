// Reads a stored record back to its original bytes: fetch, decrypt with every key this machine
// holds, strip the name header of opaque-named objects, write through a temp file and a rename.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EncryptionConfig } from '../config/schema.js';
import { buildDecryptKeyring } from '../crypto/keyrings.js';
import { keptUnlessRejected } from '../kept.js';
import { DecryptError, decrypting, describeDecryptFailure, stripNamedHeader, type NamedHeader } from '../crypto/envelope.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { METADATA, StoreError, type ObjectStore } from './types.js';

/** Pipes a stored object through decryption; `what` names it in errors. */
export async function writeDecrypted(body: Readable, format: string, keyring: KeyringNode | null, outPath: string, what: string): Promise<NamedHeader | null> {
  const tmp = `${outPath}.${randomBytes(6).toString('hex')}.part`;
  let header: NamedHeader | null = null;
  const stages: (Transform | NodeJS.ReadWriteStream)[] = [];
  if (format !== 'plain') {
    if (!keyring) throw new DecryptError(`${what} is encrypted and this machine holds no key; import one with "medrelay keys import"`);
    stages.push(decrypting(keyring));
    if (format === 'esdk2-named') stages.push(stripNamedHeader((h) => { header = h; }));
  }
  try {
    await pipeline([body, ...stages, createWriteStream(tmp, { flags: 'wx' })]);
    await rename(tmp, outPath);
    return header;
  } catch (e) {
    await rm(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    if (err.path === tmp || err.path === outPath) throw new StoreError('bad-input', `cannot write ${outPath}: ${err.message}`, false);
    if (e instanceof DecryptError || e instanceof StoreError) throw e;
    throw describeDecryptFailure(e, what);
  }
}

export class RecordReader {
  /**
   * Every key this machine decrypts with, built once; built again after a failure (a key file being
   * restored). The one keyring of the process: browsing, previews, share links and the catalog use
   * it too, so that a keychain key is read once, not once by each.
   */
  readonly decryptKeys = keptUnlessRejected(() => buildDecryptKeyring(this.encryption, this.secrets));

  constructor(private readonly store: ObjectStore, private readonly encryption: EncryptionConfig, private readonly secrets: SecretStore | null) {}

  /** Writes the original bytes of `key` to `outPath`; returns the original name when the object kept one. */
  async save(key: string, outPath: string): Promise<{ originalName: string | null }> {
    const { body, info } = await this.store.get(key);
    const format = info.metadata?.[METADATA.format] ?? 'plain';
    const keyring = format === 'plain' ? null : await this.decryptKeys();
    const header = await writeDecrypted(body, format, keyring, outPath, `${this.store.location}/${key}`);
    return { originalName: header?.originalName ?? null };
  }
}
