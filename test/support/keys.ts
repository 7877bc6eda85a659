// A site key file for tests: the same kind a headless service uses (JSON, mode 0600).
import { join } from 'node:path';
import { newAesKey, writeKeyFile } from '../../src-main/core/crypto/key-files.js';

export function makeKeyFile(dir: string, keyId = 'test-site-key'): { keyId: string; keyFile: string } {
  const keyFile = join(dir, `${keyId}.key.json`);
  writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId, key: newAesKey() });
  return { keyId, keyFile };
}
