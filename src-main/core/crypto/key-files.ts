// Key material on disk and in the keychain. A key file is JSON that names its key id, so that a
// hospital can decrypt with nothing but the file (`medrelay decrypt --key-file`). Key files must be
// readable by their owner only.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { SECRET_NAMES, type SecretStore } from '../secrets/secret-store.js';

export class KeyError extends Error {
  override name = 'KeyError';
}

export type KeyFile =
  | { medrelayKey: 1; type: 'aes'; keyId: string; key: string }
  | { medrelayKey: 1; type: 'rsa-private'; keyId: string; pem: string };

export const KEY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function checkKeyId(keyId: string): void {
  if (!KEY_ID.test(keyId)) throw new KeyError(`key id "${keyId}" must be 1-128 letters, digits, ".", "_", ":" or "-"`);
}

/** Refuses a key file that other users can read: a site key must not leak through file modes. */
export function checkOwnerOnly(path: string): void {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new KeyError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (mode & 0o077) {
    throw new KeyError(`key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
}

export function readKeyFile(path: string): KeyFile {
  checkOwnerOnly(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new KeyError(`key file ${path} is not a MedRelay key file: ${(e as Error).message}`);
  }
  const k = parsed as Partial<KeyFile>;
  if (k.medrelayKey !== 1 || !k.keyId || (k.type !== 'aes' && k.type !== 'rsa-private')) {
    throw new KeyError(`key file ${path} is not a MedRelay key file (expected "medrelayKey": 1, "type", "keyId")`);
  }
  checkKeyId(k.keyId);
  if (k.type === 'aes') aesKeyBytes(k.key ?? '', path);
  return k as KeyFile;
}

/** Decodes a base64 AES-256 key; `where` names the file or keychain entry for the message. */
export function aesKeyBytes(base64: string, where: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new KeyError(`${where} does not hold a 256-bit AES key (${key.length} bytes)`);
  return key;
}

/** Writes a new key file with mode 0600; never replaces an existing one. */
export function writeKeyFile(path: string, key: KeyFile): void {
  try {
    writeFileSync(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyError(code === 'EEXIST' ? `key file ${path} already exists; not replaced` : `cannot write key file ${path}: ${(e as Error).message}`);
  }
}

export function newAesKey(): string {
  return randomBytes(32).toString('base64');
}

/** A key id for a new key: `site-YYYYMMDD-xxxx`. */
export function newKeyId(prefix = 'site', now = new Date()): string {
  return `${prefix}-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** A new RSA-4096 pair: the private key in PKCS#8 PEM, the public key in SPKI PEM. */
export function newRsaPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A stable id for an RSA public key: its SPKI fingerprint. Names the key, reveals nothing. */
export function rsaKeyIdOf(publicPem: string): string {
  const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
  return `rsa-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

export async function aesKeyFromKeychain(secrets: SecretStore, keyId: string): Promise<Buffer> {
  const value = await secrets.get(SECRET_NAMES.aesKey(keyId));
  if (!value) throw new KeyError(`AES key "${keyId}" is not in this machine's keychain; create it with "medrelay keys init" or import it with "medrelay keys import"`);
  return aesKeyBytes(value, `keychain entry ${SECRET_NAMES.aesKey(keyId)}`);
}
