// The keyrings built from the configuration: local keys on their own, and a KMS key beside them
// (its keyring is loaded only when a KMS key is configured: crypto/keyrings.ts). Nothing here calls
// KMS; the keyrings are checked as built.
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { MultiKeyringNode } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode } from '@aws-crypto/raw-aes-keyring-node';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptionSchema } from '../../../src-main/core/config/schema.js';
import { newAesKey, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { buildDecryptKeyring, buildEncryptKeyrings } from '../../../src-main/core/crypto/keyrings.js';
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
