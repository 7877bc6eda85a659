// Key management: create, rotate, export and import site keys and reading-station RSA keys, and
// the offline recovery path (decrypt a downloaded object with a key file, no configuration).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createReadStream, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SECRET_NAMES, type SecretStore } from '../secrets/secret-store.js';
import { writeDecrypted } from '../store/record-reader.js';
import { decrypting, NAMED_MAGIC } from './envelope.js';
import {
  checkKeyId, KeyError, newAesKey, newKeyId, newRsaPair, readKeyFile, rsaKeyIdOf, writeKeyFile, type KeyFile,
} from './key-files.js';
import { keyringFromKeyFile } from './keyrings.js';

function requireSecrets(secrets: SecretStore | null): SecretStore {
  if (!secrets) throw new KeyError('no OS keychain here: use --file PATH for a key file');
  return secrets;
}

/** A new AES-256 site key, in the keychain or in a new 0600 key file. */
export async function initAesKey(opts: { secrets: SecretStore | null; file?: string; keyId?: string }): Promise<{ keyId: string; where: string }> {
  const keyId = opts.keyId ?? newKeyId();
  checkKeyId(keyId);
  const key = newAesKey();
  if (opts.file) {
    writeKeyFile(opts.file, { medrelayKey: 1, type: 'aes', keyId, key });
    return { keyId, where: opts.file };
  }
  const secrets = requireSecrets(opts.secrets);
  if (await secrets.get(SECRET_NAMES.aesKey(keyId))) throw new KeyError(`the keychain already holds a key "${keyId}"; not replaced`);
  await secrets.set(SECRET_NAMES.aesKey(keyId), key);
  return { keyId, where: `keychain entry ${SECRET_NAMES.aesKey(keyId)}` };
}

/** A reading station's RSA pair: private half in the keychain (or a key file), public half as PEM. */
export async function initRsaPair(opts: { secrets: SecretStore | null; publicOut: string; file?: string }): Promise<{ keyId: string; where: string }> {
  const { privatePem, publicPem } = newRsaPair();
  const keyId = rsaKeyIdOf(publicPem);
  if (opts.file) writeKeyFile(opts.file, { medrelayKey: 1, type: 'rsa-private', keyId, pem: privatePem });
  else await requireSecrets(opts.secrets).set(SECRET_NAMES.rsaPrivateKey(keyId), privatePem);
  writeFileSync(opts.publicOut, publicPem, { flag: 'wx' });
  return { keyId, where: opts.file ?? `keychain entry ${SECRET_NAMES.rsaPrivateKey(keyId)}` };
}

export async function exportPublicKey(secrets: SecretStore | null, keyId: string): Promise<string> {
  const pem = await requireSecrets(secrets).get(SECRET_NAMES.rsaPrivateKey(keyId));
  if (!pem) throw new KeyError(`no RSA key "${keyId}" in this machine's keychain`);
  return createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'pem' }).toString();
}

/** Writes a keychain key to a key file (escrow, moving a key to another machine). */
export async function exportKeyFile(secrets: SecretStore | null, keyId: string, file: string): Promise<KeyFile['type']> {
  const s = requireSecrets(secrets);
  const aes = await s.get(SECRET_NAMES.aesKey(keyId));
  if (aes) {
    writeKeyFile(file, { medrelayKey: 1, type: 'aes', keyId, key: aes });
    return 'aes';
  }
  const pem = await s.get(SECRET_NAMES.rsaPrivateKey(keyId));
  if (pem) {
    writeKeyFile(file, { medrelayKey: 1, type: 'rsa-private', keyId, pem });
    return 'rsa-private';
  }
  throw new KeyError(`no key "${keyId}" in this machine's keychain`);
}

export async function importKeyFile(secrets: SecretStore | null, file: string): Promise<KeyFile> {
  const k = readKeyFile(file);
  const s = requireSecrets(secrets);
  await s.set(k.type === 'aes' ? SECRET_NAMES.aesKey(k.keyId) : SECRET_NAMES.rsaPrivateKey(k.keyId), k.type === 'aes' ? k.key : k.pem);
  return k;
}

interface RawConfig {
  encryption?: { keyrings?: { type: string; keyId?: string; keyFile?: string }[]; decryptKeyFiles?: string[] };
}

/**
 * New uploads get a new AES key; the old one stays (keychain entry, or its file listed in
 * `decryptKeyFiles`) so that every object written before still decrypts. Rewrites the config file.
 */
export async function rotateAesKey(configPath: string, secrets: SecretStore | null): Promise<{ oldKeyId: string; newKeyId: string; where: string }> {
  const raw = JSON.parse(readFileSync(configPath, 'utf8')) as RawConfig;
  const ring = raw.encryption?.keyrings?.find((k) => k.type === 'aes');
  if (!ring?.keyId) throw new KeyError(`${configPath} has no "aes" keyring in "encryption.keyrings" to rotate`);
  const oldKeyId = ring.keyId;
  let created;
  if (ring.keyFile) {
    const base = resolve(dirname(configPath), dirname(ring.keyFile));
    const keyId = newKeyId();
    created = await initAesKey({ secrets, keyId, file: join(base, `${keyId}.key.json`) });
    raw.encryption!.decryptKeyFiles = [...(raw.encryption!.decryptKeyFiles ?? []), ring.keyFile];
    ring.keyFile = join(dirname(ring.keyFile), `${keyId}.key.json`);
  } else {
    created = await initAesKey({ secrets });
  }
  ring.keyId = created.keyId;
  const tmp = `${configPath}.rotate.tmp`;
  writeFileSync(tmp, `${JSON.stringify(raw, null, 2)}\n`, { mode: statSync(configPath).mode & 0o777 });
  renameSync(tmp, configPath);
  return { oldKeyId, newKeyId: created.keyId, where: created.where };
}

/** The recovery path: a downloaded object and a key file in, the original bytes out. */
export async function decryptWithKeyFile(keyFile: string, input: string, output: string): Promise<{ originalName: string | null }> {
  const keyring = keyringFromKeyFile(readKeyFile(keyFile));
  // Objects stored under an opaque name start (once decrypted) with a name header.
  const named = await startsWithNamedHeader(input, keyring);
  const header = await writeDecrypted(createReadStream(input), named ? 'esdk2-named' : 'esdk2', keyring, output, input);
  return { originalName: header?.originalName ?? null };
}

async function startsWithNamedHeader(input: string, keyring: ReturnType<typeof keyringFromKeyFile>): Promise<boolean> {
  const d = createReadStream(input).pipe(decrypting(keyring));
  try {
    for await (const chunk of d) {
      return (chunk as Buffer).subarray(0, NAMED_MAGIC.length).toString('utf8') === NAMED_MAGIC;
    }
    return false;
  } catch {
    return false; // the real decryption reports the error with its reason
  } finally {
    d.destroy();
  }
}
