// Builds the AWS Encryption SDK keyrings from the configuration: one multi-keyring that wraps each
// object's data key under every configured key (encrypting), and one that holds every key this
// machine knows (decrypting), so that objects written before a rotation stay readable.
import {
  KeyringNode, MultiKeyringNode, type EncryptedDataKey, type NodeAlgorithmSuite, type NodeDecryptionMaterial,
} from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
import { _onEncrypt } from '@aws-crypto/raw-keyring';
import { RawRsaKeyringNode } from '@aws-crypto/raw-rsa-keyring-node';
import { constants, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EncryptionConfig, KeyringConfig } from '../config/schema.js';
import { keptUnlessRejected } from '../kept.js';
import { SECRET_NAMES, SecretStoreError, type SecretStore } from '../secrets/secret-store.js';
import { aesKeyBytes, aesKeyFromKeychain, KeyError, readKeyFile, rsaKeyIdOf, type KeyFile } from './key-files.js';

/**
 * The KMS keyring's package when `cfg` has a KMS key, else null: loaded only then, since it brings
 * the KMS and DynamoDB clients along, which cost every start of MedRelay about 40 ms when loaded
 * with the rest.
 */
async function kmsKeyringsFor(cfg: EncryptionConfig): Promise<typeof import('@aws-crypto/kms-keyring-node') | null> {
  return cfg.keyrings.some((k) => k.type === 'kms') ? import('@aws-crypto/kms-keyring-node') : null;
}

/** Every MedRelay key is named in this namespace inside the encrypted message. */
export const KEY_NAMESPACE = 'medrelay';

/**
 * The data key of a new message, from the same generator (OpenSSL's CSPRNG) that the SDK's raw
 * keyrings call, but without a turn on libuv's thread pool: their own `randomBytesAsync` costs
 * each message a round trip to a pool thread (measured here: about 50 µs more CPU and as much more
 * time per message, out of 150-200 µs), and a pool held up by slow file calls (a hung network share)
 * would hold up sealing too.
 */
const blockingRandomBytes = (n: number): Promise<Uint8Array> => Promise.resolve(randomBytes(n));

/** The SDK's raw AES keyring; only how it draws a new data key differs (blockingRandomBytes). */
class AesKeyring extends RawAesKeyringNode {
  override _onEncrypt = _onEncrypt<NodeAlgorithmSuite, RawAesKeyringNode>(blockingRandomBytes);
}

/** The SDK's raw RSA keyring; only how it draws a new data key differs (blockingRandomBytes). */
class RsaKeyring extends RawRsaKeyringNode {
  override _onEncrypt = _onEncrypt<NodeAlgorithmSuite, RawRsaKeyringNode>(blockingRandomBytes);
}

export function aesKeyring(keyId: string, key: Buffer): RawAesKeyringNode {
  return new AesKeyring({
    keyNamespace: KEY_NAMESPACE, keyName: keyId, unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

function rsaKeyring(keyId: string, key: { publicKey: string } | { privateKey: string }): RawRsaKeyringNode {
  return new RsaKeyring({
    keyNamespace: KEY_NAMESPACE, keyName: keyId, rsaKey: key,
    padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256',
  });
}

function readPublicKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeyError(`cannot read RSA public key file ${path}: ${(e as Error).message}`);
  }
}

/** The key id recorded for a keyring (what `medrelay-key-ids` metadata lists). */
export function keyIdOf(k: KeyringConfig): string {
  if (k.type === 'aes') return `aes:${k.keyId}`;
  if (k.type === 'rsa') return `rsa:${k.keyId ?? rsaKeyIdOf(readPublicKey(k.publicKeyFile))}`;
  return `kms:${k.keyArn}`;
}

/**
 * What an encrypting keyring is made of, as plain data: the keyring is built from these specs on
 * the main thread and again inside the sealing worker (sealer.ts), which cannot be handed a keyring
 * object. AES keys travel as bytes inside the process, never to disk or to another process.
 */
export type KeyringSpec =
  | { type: 'aes'; keyId: string; key: Uint8Array }
  | { type: 'rsa'; keyId: string; publicKeyPem: string };

function keyringFromSpec(s: KeyringSpec): KeyringNode {
  return s.type === 'aes' ? aesKeyring(s.keyId, Buffer.from(s.key)) : rsaKeyring(s.keyId, { publicKey: s.publicKeyPem });
}

/** One keyring that wraps each data key under every keyring given (the first generates it). */
function allOf(rings: KeyringNode[]): KeyringNode {
  const [generator, ...children] = rings;
  if (!generator) throw new KeyError('setting "encryption.keyrings" is empty: there is no key to encrypt with');
  return children.length ? new MultiKeyringNode({ generator, children }) : generator;
}

/** The encrypting keyring of these specs. */
export function keyringFromSpecs(specs: readonly KeyringSpec[]): KeyringNode {
  return allOf(specs.map(keyringFromSpec));
}

/** The key material of one configured encrypting keyring; null for KMS (no local material). */
async function encryptingSpec(k: KeyringConfig, secrets: SecretStore | null): Promise<KeyringSpec | null> {
  if (k.type === 'aes') {
    if (k.keyFile) {
      const file = readKeyFile(k.keyFile);
      if (file.type !== 'aes' || file.keyId !== k.keyId) throw new KeyError(`key file ${k.keyFile} holds "${file.keyId}" (${file.type}), not AES key "${k.keyId}"`);
      return { type: 'aes', keyId: k.keyId, key: new Uint8Array(aesKeyBytes(file.key, k.keyFile)) };
    }
    if (!secrets) throw new KeyError(`AES key "${k.keyId}" has no "keyFile" and no keychain is available`);
    return { type: 'aes', keyId: k.keyId, key: new Uint8Array(await aesKeyFromKeychain(secrets, k.keyId)) };
  }
  if (k.type === 'rsa') {
    const pem = readPublicKey(k.publicKeyFile);
    return { type: 'rsa', keyId: k.keyId ?? rsaKeyIdOf(pem), publicKeyPem: pem };
  }
  return null;
}

export interface EncryptKeyring {
  keyring: KeyringNode;
  /** The same keyring as plain data, when every key is local (no KMS): what a worker thread can rebuild. */
  specs: KeyringSpec[] | null;
}

/** Wraps each data key under every configured keyring. */
export async function buildEncryptKeyring(cfg: EncryptionConfig, secrets: SecretStore | null): Promise<KeyringNode> {
  return (await buildEncryptKeyrings(cfg, secrets)).keyring;
}

/** buildEncryptKeyring, with the specs it was built from when they can be handed to a worker. */
export async function buildEncryptKeyrings(cfg: EncryptionConfig, secrets: SecretStore | null): Promise<EncryptKeyring> {
  const specs = await Promise.all(cfg.keyrings.map((k) => encryptingSpec(k, secrets)));
  const kms = await kmsKeyringsFor(cfg);
  const keyring = allOf(cfg.keyrings.map((k, i) => (k.type === 'kms' ? new kms!.KmsKeyringNode({ generatorKeyId: k.keyArn }) : keyringFromSpec(specs[i]!))));
  return { keyring, specs: specs.every((s): s is KeyringSpec => s !== null) ? specs : null };
}

export function keyringFromKeyFile(file: KeyFile): KeyringNode {
  return file.type === 'aes' ? aesKeyring(file.keyId, aesKeyBytes(file.key, `key ${file.keyId}`)) : rsaKeyring(file.keyId, { privateKey: file.pem });
}

/**
 * A key kept in the OS keychain, read from it only when an object names it among its data keys, so
 * that opening an object reads no other entry: a locked or unreadable entry of another key (an
 * unlock prompt dismissed, a keychain busy) cannot stop it, and neither can a hundred rotated keys
 * cost a hundred reads. A failed read is not kept: the next object that names the key asks again.
 */
class KeychainKeyring extends KeyringNode {
  private readonly keyring = keptUnlessRejected(() => this.read());

  constructor(private readonly type: 'aes' | 'rsa', private readonly keyId: string, private readonly secrets: SecretStore) {
    super();
  }

  private get entry(): string {
    return this.type === 'aes' ? SECRET_NAMES.aesKey(this.keyId) : SECRET_NAMES.rsaPrivateKey(this.keyId);
  }

  /** The raw keyrings' own test of whether a data key is theirs (their `_filter`). */
  private names(edk: EncryptedDataKey): boolean {
    return edk.providerId === KEY_NAMESPACE && (this.type === 'aes' ? edk.providerInfo.startsWith(this.keyId) : edk.providerInfo === this.keyId);
  }

  _onEncrypt(): never {
    throw new KeyError(`keychain entry ${this.entry} is a decrypting key only`);
  }

  async _onDecrypt(material: NodeDecryptionMaterial, edks: EncryptedDataKey[]): Promise<NodeDecryptionMaterial> {
    if (!edks.some((edk) => this.names(edk))) return material;
    return (await this.keyring()).onDecrypt(material, edks);
  }

  private async read(): Promise<KeyringNode> {
    const value = await this.secrets.get(this.entry);
    if (!value) throw new KeyError(`keychain entry ${this.entry} is gone or empty`);
    if (this.type === 'aes') return aesKeyring(this.keyId, aesKeyBytes(value, `keychain entry ${this.entry}`));
    let pem: string;
    try {
      pem = createPrivateKey(value).export({ type: 'pkcs8', format: 'pem' }).toString();
    } catch (e) {
      // Named as a key problem: OpenSSL's own words ("unsupported") would read as a damaged object.
      throw new KeyError(`keychain entry ${this.entry} does not hold an RSA private key (${(e as Error).message})`);
    }
    return rsaKeyring(this.keyId, { privateKey: pem });
  }
}

/**
 * Every key this machine can decrypt with: configured AES keys (file or keychain), old key files,
 * every AES and RSA private key in the keychain (each read only when an object needs it:
 * KeychainKeyring), and KMS keys by ARN.
 */
export async function buildDecryptKeyring(cfg: EncryptionConfig, secrets: SecretStore | null): Promise<KeyringNode | null> {
  const children: KeyringNode[] = [];
  const seen = new Set<string>();
  const add = (id: string, make: () => KeyringNode) => {
    if (seen.has(id)) return;
    seen.add(id);
    children.push(make());
  };
  const kms = await kmsKeyringsFor(cfg);
  for (const k of cfg.keyrings) {
    if (k.type === 'aes' && k.keyFile) {
      const f = readKeyFile(k.keyFile);
      add(`aes:${f.keyId}`, () => keyringFromKeyFile(f));
    } else if (k.type === 'kms') {
      add(`kms:${k.keyArn}`, () => new kms!.KmsKeyringNode({ keyIds: [k.keyArn] }));
    }
  }
  for (const path of cfg.decryptKeyFiles) {
    const f = readKeyFile(path);
    add(`${f.type}:${f.keyId}`, () => keyringFromKeyFile(f));
  }
  // A machine without a keychain (a headless service) decrypts with its key files alone.
  const names = secrets ? await secrets.list('').catch((e: unknown) => {
    if (e instanceof SecretStoreError) return null;
    throw e;
  }) : null;
  if (secrets && names) {
    for (const name of names.filter((n) => n.startsWith('aes-key:'))) {
      const keyId = name.slice('aes-key:'.length);
      add(`aes:${keyId}`, () => new KeychainKeyring('aes', keyId, secrets));
    }
    for (const name of names.filter((n) => n.startsWith('rsa-private:'))) {
      const keyId = name.slice('rsa-private:'.length);
      add(`rsa:${keyId}`, () => new KeychainKeyring('rsa', keyId, secrets));
    }
  }
  if (children.length === 0) return null;
  return new MultiKeyringNode({ children });
}
