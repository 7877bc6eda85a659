// Sealing and opening index objects with the AWS Encryption SDK: the same committing suite and the
// same keyrings as records, small messages in memory. Writers reuse a data key for up to an hour or
// 1,000 index objects (the SDK's caching materials manager), so that a reading station opens a
// day's index with a few key unwraps rather than one per object: with an RSA-4096 key, an unwrap
// costs about 6 ms here, 60 s for 10,000 objects. Every message still has its own derived key
// (HKDF over the message id); a leaked data key exposes at most the index objects it sealed.
import { getLocalCryptographicMaterialsCache, NodeCachingMaterialsManager } from '@aws-crypto/caching-materials-manager-node';
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import type { KeyringNode } from '@aws-crypto/material-management-node';
import { describeDecryptFailure, encryptionContext, FRAME_LENGTH, SDK_CLIENT, SUITE } from '../crypto/envelope.js';
import { INDEX_KIND, indexDocumentSchema, type IndexDocument } from './entry.js';

const { encrypt } = buildEncrypt(SDK_CLIENT);
const { decrypt } = buildDecrypt(SDK_CLIENT);

const PARTITION = 'medrelay-index';
export const DATA_KEY_MAX_AGE_MS = 3600_000;
export const DATA_KEY_MAX_MESSAGES = 1000;

export class IndexFormatError extends Error {
  override name = 'IndexFormatError';
}

/** Encrypts index documents for the configured keyrings. */
export class IndexSealer {
  private readonly cmm: NodeCachingMaterialsManager;
  private readonly context: Record<string, string>;

  constructor(keyring: KeyringNode, workstationId: string) {
    this.cmm = new NodeCachingMaterialsManager({
      backingMaterials: keyring, cache: getLocalCryptographicMaterialsCache(8), partition: PARTITION,
      maxAge: DATA_KEY_MAX_AGE_MS, maxMessagesEncrypted: DATA_KEY_MAX_MESSAGES,
    });
    this.context = encryptionContext(INDEX_KIND, workstationId);
  }

  async seal(doc: IndexDocument): Promise<Buffer> {
    const { result } = await encrypt(this.cmm, Buffer.from(JSON.stringify(doc), 'utf8'), {
      suiteId: SUITE, frameLength: FRAME_LENGTH, encryptionContext: this.context,
    });
    return result;
  }
}

/** Decrypts index objects with every key this machine holds; unwrapped data keys are cached. */
export class IndexOpener {
  private readonly cmm: NodeCachingMaterialsManager | null;

  /** `acceptPlain`: read unencrypted index objects (only a station in sse-only mode trusts them). */
  constructor(keyring: KeyringNode | null, private readonly acceptPlain = false) {
    this.cmm = keyring && new NodeCachingMaterialsManager({
      backingMaterials: keyring, cache: getLocalCryptographicMaterialsCache(1000), partition: PARTITION,
      maxAge: DATA_KEY_MAX_AGE_MS,
    });
  }

  /** The document in an index object of the given `medrelay-format` (`esdk2`, or `plain` from sse-only stations). */
  async open(bytes: Buffer, format: string, what: string): Promise<IndexDocument> {
    let plaintext: Buffer;
    if (format === 'plain') {
      // Anyone who may write to the bucket could forge a plain entry; encrypted ones prove a key holder.
      if (!this.acceptPlain) throw new IndexFormatError(`${what} is not encrypted; only a station in "sse-only" mode reads unencrypted index objects`);
      plaintext = bytes;
    } else if (format === 'esdk2') {
      if (!this.cmm) throw new IndexFormatError(`${what} is encrypted and this machine holds no key; import one with "medrelay keys import"`);
      try {
        const r = await decrypt(this.cmm, bytes);
        if (r.messageHeader.encryptionContext['medrelay-kind'] !== INDEX_KIND) throw new IndexFormatError(`${what} is not an index object`);
        plaintext = r.plaintext;
      } catch (e) {
        if (e instanceof IndexFormatError) throw e;
        throw new IndexFormatError(describeDecryptFailure(e, what).message);
      }
    } else {
      throw new IndexFormatError(`${what} has format "${format}", which is not an index format`);
    }
    let json: unknown;
    try {
      json = JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new IndexFormatError(`${what} is not JSON once decrypted`);
    }
    const parsed = indexDocumentSchema.safeParse(json);
    if (!parsed.success) throw new IndexFormatError(`${what} is not a MedRelay index document: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }
}
