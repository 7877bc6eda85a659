// The embedded demo profile: a folder store and sample records, so MedRelay runs with no
// configuration and no cloud account. The profile is written as a config file in the demo
// folder, so that `status`, `list` and `get` can be tried on it too.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { newAesKey, writeKeyFile } from '../crypto/key-files.js';

export function defaultDemoDir(): string {
  return process.env.MEDRELAY_DEMO_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'medrelay-demo');
}

export const DEMO_KEY_ID = 'demo-site-key';

export const DEMO_SETTINGS = {
  dataDir: 'data',
  workstationId: 'demo-workstation',
  store: { type: 'folder', path: 'store' },
  // A key file, not the keychain: the demo must run on machines without one. Made on first run.
  encryption: { keyrings: [{ type: 'aes', keyId: DEMO_KEY_ID, keyFile: 'demo-site.key.json' }] },
  credentials: { source: 'env' },
  watch: [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }],
  stability: { windowMs: 300, incompleteAfterMs: 300 },
} as const;

/** Writes `dir/medrelay.json`, its key file and the watched folders; returns the loaded profile. */
export function prepareDemo(dir: string): ResolvedConfig {
  const file = join(dir, 'medrelay.json');
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'demo-site.key.json');
  if (!existsSync(keyFile)) writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId: DEMO_KEY_ID, key: newAesKey() });
  writeFileSync(file, `${JSON.stringify(DEMO_SETTINGS, null, 2)}\n`);
  const config = loadConfig(file);
  for (const w of config.watch) mkdirSync(w.path, { recursive: true });
  return config;
}
