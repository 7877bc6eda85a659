// The keyrings built from the configuration: local keys on their own, and a KMS key beside them
// (its keyring is loaded only when a KMS key is configured: crypto/keyrings.ts). Nothing here calls
// KMS; the keyrings are checked as built. Keys in the keychain are read only when an object names
// them; a small SecretStore of our own stands in for a keychain whose entries fail to read, which a
// real one does only now and then (an unlock prompt that cannot show on a headless session).
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { MultiKeyringNode } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode } from '@aws-crypto/raw-aes-keyring-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encryptionSchema } from '../../../src-main/core/config/schema.js';
import { encryptToChunks, encryptionContext } from '../../../src-main/core/crypto/envelope.js';
import { newAesKey, newRsaPair, rsaKeyIdOf, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { aesKeyring, buildDecryptKeyring, buildEncryptKeyring, buildEncryptKeyrings } from '../../../src-main/core/crypto/keyrings.js';
import { SecretStoreError, type SecretStore } from '../../../src-main/core/secrets/secret-store.js';
import { writeDecrypted } from '../../../src-main/core/store/record-reader.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('keyrings');
const keyFile = join(dir, 'site.key.json');
writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId: 'site-1', key: newAesKey() });
const KEY_ARN = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('keyrings from the configuration', () => {
  it('builds local keys alone with their specs, for the sealing worker', async () => {
    const cfg = encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }] });
    const { keyring, specs } = await buildEncryptKeyrings(cfg, null);
    expect(keyring).toBeInstanceOf(RawAesKeyringNode);
    expect(specs).toEqual([{ type: 'aes', keyId: 'site-1', key: expect.any(Uint8Array) as Uint8Array }]);
  });

  it('builds a configured KMS key into the encrypting and the decrypting keyring, and no specs (KMS cannot go to a worker)', async () => {
    const cfg = encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }, { type: 'kms', keyArn: KEY_ARN }] });
    const { keyring, specs } = await buildEncryptKeyrings(cfg, null);
    expect(specs).toBeNull();
    expect(keyring).toBeInstanceOf(MultiKeyringNode);
    const multi = keyring as MultiKeyringNode;
    expect(multi.generator).toBeInstanceOf(RawAesKeyringNode);
    expect(multi.children.map((k) => k.constructor)).toEqual([KmsKeyringNode]);
    expect((multi.children[0] as KmsKeyringNode).generatorKeyId).toBe(KEY_ARN);
    const reading = await buildDecryptKeyring(cfg, null) as MultiKeyringNode;
    expect(reading.children).toHaveLength(2);
    expect(reading.children[0]).toBeInstanceOf(RawAesKeyringNode);
    expect(reading.children[1]).toBeInstanceOf(KmsKeyringNode);
    expect((reading.children[1] as KmsKeyringNode).keyIds).toEqual([KEY_ARN]);
  });
});

/** A keychain of named entries; `failing` entries fail to read, as a locked one does. Counts reads. */
class Keychain implements SecretStore {
  readonly reads: string[] = [];
  readonly failing = new Set<string>();
  constructor(private readonly entries: Map<string, string>) {}
  get(name: string): Promise<string | null> {
    this.reads.push(name);
    if (this.failing.has(name)) return Promise.reject(new SecretStoreError(`the OS keychain could not read "${name}" (Secret Service: unlock prompt was dismissed)`));
    return Promise.resolve(this.entries.get(name) ?? null);
  }
  set(name: string, value: string): Promise<void> {
    this.entries.set(name, value);
    return Promise.resolve();
  }
  delete(name: string): Promise<boolean> {
    return Promise.resolve(this.entries.delete(name));
  }
  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.entries.keys()].filter((n) => n.startsWith(prefix)).sort());
  }
}

describe('keys in the keychain, for decrypting', () => {
  const plain = Buffer.from('%PDF-1.4 an ECG report\n');
  const seal = async (keyring: Parameters<typeof encryptToChunks>[0]) =>
    Readable.from(Buffer.concat(await encryptToChunks(keyring, encryptionContext('ecg-report', 'ws-1'), plain)));
  const open = async (keyring: Awaited<ReturnType<typeof buildDecryptKeyring>>, body: Readable, name: string) => {
    await writeDecrypted(body, 'esdk2', keyring, join(dir, name), `s3://b/${name}`);
    return readFileSync(join(dir, name));
  };
  const rotated = newAesKey();
  const rsa = newRsaPair();
  const rsaId = rsaKeyIdOf(rsa.publicPem);
  const keychain = () => new Keychain(new Map([
    ['aes-key:rotated-1', rotated], ['aes-key:other-2', newAesKey()], [`rsa-private:${rsaId}`, rsa.privatePem], ['s3-credentials:default', '{}'],
  ]));

  it('opens an object sealed with the key file without reading the keychain, even when its entries fail to read', async () => {
    const secrets = keychain();
    for (const name of ['aes-key:rotated-1', 'aes-key:other-2', `rsa-private:${rsaId}`]) secrets.failing.add(name);
    const cfg = encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }] });
    const keyring = await buildDecryptKeyring(cfg, secrets);
    expect((await open(keyring, await seal(await buildEncryptKeyring(cfg, null)), 'by-file.pdf')).equals(plain)).toBe(true);
    expect(secrets.reads).toEqual([]);
  });

  it('reads only the entry of the key an object names: an old AES key, or an RSA private key', async () => {
    const secrets = keychain();
    secrets.failing.add('aes-key:other-2');
    const cfg = encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }] });
    const keyring = await buildDecryptKeyring(cfg, secrets);
    const byOld = await seal(aesKeyring('rotated-1', Buffer.from(rotated, 'base64')));
    expect((await open(keyring, byOld, 'by-old.pdf')).equals(plain)).toBe(true);
    expect(secrets.reads).toEqual(['aes-key:rotated-1']);
    const byRsa = await seal(await buildEncryptKeyring(encryptionSchema.parse({ keyrings: [{ type: 'rsa', publicKeyFile: writePublic(rsa.publicPem) }] }), null));
    expect((await open(keyring, byRsa, 'by-rsa.pdf')).equals(plain)).toBe(true);
    expect(secrets.reads).toEqual(['aes-key:rotated-1', `rsa-private:${rsaId}`]);
    // Each entry is read once, however many objects it opens.
    await open(keyring, await seal(aesKeyring('rotated-1', Buffer.from(rotated, 'base64'))), 'by-old-2.pdf');
    expect(secrets.reads).toHaveLength(2);
  });

  it("names the object and the entry when the key it needs cannot be read, and reads it again for the next object", async () => {
    const secrets = keychain();
    secrets.failing.add('aes-key:rotated-1');
    const keyring = await buildDecryptKeyring(encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }] }), secrets);
    const old = aesKeyring('rotated-1', Buffer.from(rotated, 'base64'));
    await expect(open(keyring, await seal(old), 'locked.pdf')).rejects.toThrow(
      /^s3:\/\/b\/locked\.pdf: its key could not be read: the OS keychain could not read "aes-key:rotated-1" \(Secret Service: unlock prompt was dismissed\)$/);
    secrets.failing.clear();
    expect((await open(keyring, await seal(old), 'unlocked.pdf')).equals(plain)).toBe(true);
    expect(secrets.reads).toEqual(['aes-key:rotated-1', 'aes-key:rotated-1']);
  });

  it('says which entry is wrong when the one an object needs does not hold a key, and opens the others', async () => {
    const secrets = keychain();
    await secrets.set('aes-key:rotated-1', Buffer.alloc(16).toString('base64'));
    await secrets.set(`rsa-private:${rsaId}`, 'not a PEM');
    const keyring = await buildDecryptKeyring(encryptionSchema.parse({ keyrings: [{ type: 'aes', keyId: 'site-1', keyFile }] }), secrets);
    await expect(open(keyring, await seal(aesKeyring('rotated-1', Buffer.from(rotated, 'base64'))), 'short-key.pdf')).rejects.toThrow(
      'its key could not be read: keychain entry aes-key:rotated-1 does not hold a 256-bit AES key (16 bytes)');
    const byRsa = await seal(await buildEncryptKeyring(encryptionSchema.parse({ keyrings: [{ type: 'rsa', publicKeyFile: writePublic(rsa.publicPem) }] }), null));
    await expect(open(keyring, byRsa, 'bad-pem.pdf')).rejects.toThrow(`its key could not be read: keychain entry rsa-private:${rsaId} does not hold an RSA private key`);
    const other = await secrets.get('aes-key:other-2');
    expect((await open(keyring, await seal(aesKeyring('other-2', Buffer.from(other!, 'base64'))), 'other.pdf')).equals(plain)).toBe(true);
  });
});

function writePublic(pem: string): string {
  const path = join(dir, `${rsaKeyIdOf(pem)}.pub.pem`);
  writeFileSync(path, pem);
  return path;
}
