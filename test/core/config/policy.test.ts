// The IT policy: its settings override the user's and are reported as locked; a wrong policy stops
// MedRelay with a PolicyError naming the file, the setting, the value and what was expected.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src-main/core/config/load.js';
import {
  PolicyError, defaultPolicyPath, isLocked, loadEffectiveConfig, lockedSettings, mergeSettings,
} from '../../../src-main/core/config/policy.js';
import { tempDir } from '../../support/tmp.js';

/** A valid user config (what a workstation's medrelay.json holds). */
const USER = {
  dataDir: 'data',
  workstationId: 'ecg-cart-3',
  store: { type: 's3', bucket: 'user-bucket', region: 'eu-west-1', prefix: 'site-a' },
  encryption: { keyrings: [{ type: 'aes', keyId: 'site-1', keyFile: 'keys/site-1.key.json' }] },
  credentials: { source: 'env' },
  watch: [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }],
  queue: { concurrency: 2 },
};

function files(label: string, user: unknown, policy?: unknown) {
  const dir = tempDir(label);
  const userPath = join(dir, 'medrelay.json');
  const policyPath = join(dir, 'etc', 'policy.json');
  mkdirSync(join(dir, 'etc'));
  if (user !== undefined) writeFileSync(userPath, typeof user === 'string' ? user : JSON.stringify(user));
  if (policy !== undefined) writeFileSync(policyPath, typeof policy === 'string' ? policy : JSON.stringify(policy));
  return { dir, userPath, policyPath };
}

function policyError(f: () => unknown): PolicyError {
  try {
    f();
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('expected a PolicyError, nothing was thrown');
}

describe('defaultPolicyPath', () => {
  it('is the documented system-wide file on each OS', () => {
    expect(defaultPolicyPath('linux')).toBe('/etc/medrelay/policy.json');
    expect(defaultPolicyPath('darwin')).toBe('/Library/Application Support/MedRelay/policy.json');
    expect(defaultPolicyPath('win32', { ProgramData: 'D:\\ProgramData' })).toBe('D:\\ProgramData\\MedRelay\\policy.json');
    expect(defaultPolicyPath('win32', {})).toBe('C:\\ProgramData\\MedRelay\\policy.json');
  });
});

describe('mergeSettings and lockedSettings', () => {
  it('merges objects key by key, replaces arrays and values, and replaces an object whose type differs', () => {
    expect(mergeSettings({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
    expect(mergeSettings({ store: { type: 'folder', path: '/x', prefix: 'p' } }, { store: { type: 's3', bucket: 'b' } }))
      .toEqual({ store: { type: 's3', bucket: 'b' } });
    expect(mergeSettings({ store: { type: 's3', bucket: 'a', region: 'r' } }, { store: { type: 's3', bucket: 'b' } }))
      .toEqual({ store: { type: 's3', bucket: 'b', region: 'r' } });
  });

  it('locks each leaf the policy sets, and a whole array', () => {
    expect(lockedSettings({ store: { bucket: 'b', region: 'r' }, watch: [{ path: '/x', kind: 'ecg' }], queue: {} }))
      .toEqual(['store.bucket', 'store.region', 'watch']);
    expect(isLocked(['store.bucket', 'watch'], 'watch[1].path')).toBe(true);
    expect(isLocked(['store.bucket', 'watch'], 'store.region')).toBe(false);
  });
});

describe('loadEffectiveConfig', () => {
  it("lets the policy's settings win and reports them as locked", () => {
    const { dir, userPath, policyPath } = files('policy-merge', USER, {
      store: { bucket: 'it-bucket', endpoint: 'https://s3.example.org' },
      watch: [{ path: '/srv/ecg-out', kind: 'ecg' }],
      queue: { concurrency: 8 },
    });
    const { config, locked, policyPath: applied } = loadEffectiveConfig(userPath, policyPath);
    expect(applied).toBe(policyPath);
    expect(locked).toEqual(['queue.concurrency', 'store.bucket', 'store.endpoint', 'watch']);
    expect(config.store).toMatchObject({ type: 's3', bucket: 'it-bucket', endpoint: 'https://s3.example.org', region: 'eu-west-1', prefix: 'site-a' });
    // The array is the policy's, whole: the user's second folder is gone.
    expect(config.watch).toEqual([{ path: '/srv/ecg-out', kind: 'ecg' }]);
    expect(config.queue.concurrency).toBe(8);
    // What the policy does not set stays the user's, relative paths still from the user's file.
    expect(config.workstationId).toBe('ecg-cart-3');
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.configPath).toBe(userPath);
  });

  it('without a policy file, is the user config with nothing locked', () => {
    const { userPath, policyPath } = files('policy-none', USER);
    const effective = loadEffectiveConfig(userPath, policyPath);
    expect(effective.locked).toEqual([]);
    expect(effective.policyPath).toBeNull();
    expect(effective.config).toEqual(loadConfig(userPath));
  });

  it('an empty policy locks nothing', () => {
    const { userPath, policyPath } = files('policy-empty', USER, {});
    expect(loadEffectiveConfig(userPath, policyPath)).toMatchObject({ locked: [], policyPath });
  });

  it('overrides a wrong user setting with a right one, and replaces the store when the type differs', () => {
    const user = { ...USER, store: { type: 'folder', path: 'records' }, queue: { concurrency: 0 } };
    const { userPath, policyPath } = files('policy-fixes', user, {
      store: { type: 's3', bucket: 'it-bucket', region: 'eu-central-1' }, queue: { concurrency: 4 },
    });
    const { config } = loadEffectiveConfig(userPath, policyPath);
    expect(config.store).toMatchObject({ type: 's3', bucket: 'it-bucket', region: 'eu-central-1' });
    expect(config.store).not.toHaveProperty('path');
  });

  it('refuses an invalid policy value, naming the policy file, the setting, the value and what was expected', () => {
    const { userPath, policyPath } = files('policy-invalid', USER, { store: { bucket: 'Bad Bucket' }, queue: { concurrency: 'lots' } });
    const err = policyError(() => loadEffectiveConfig(userPath, policyPath));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.policyPath).toBe(policyPath);
    expect(err.message).toContain(policyPath);
    expect(err.message).toMatch(/will not upload/);
    expect(err.message).toMatch(/setting "store\.bucket" is "Bad Bucket": expected .*bucket name/);
    expect(err.message).toMatch(/setting "queue\.concurrency" is "lots": expected number/);
    expect(err.problems.map((p) => p.setting).sort()).toEqual(['queue.concurrency', 'store.bucket']);
    expect(err.problems.find((p) => p.setting === 'store.bucket')).toMatchObject({ value: 'Bad Bucket' });
  });

  it('blames the policy, not the user, when both are wrong; and the user alone when only the user is', () => {
    const badUser = { ...USER, stability: { windowMs: 1 } };
    const both = files('policy-both', badUser, { store: { region: '' } });
    const err = policyError(() => loadEffectiveConfig(both.userPath, both.policyPath));
    expect(err.problems.map((p) => p.setting)).toEqual(['store.region']);

    const userOnly = files('policy-user-only', badUser, { store: { region: 'eu-west-2' } });
    let thrown: unknown;
    try { loadEffectiveConfig(userOnly.userPath, userOnly.policyPath); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).not.toBeInstanceOf(PolicyError);
    expect((thrown as Error).message).toContain(userOnly.userPath);
    expect((thrown as Error).message).toMatch(/setting "stability\.windowMs" is 1/);
  });

  it('refuses unknown settings, a wrong store type and relative paths in the policy', () => {
    const unknown = files('policy-unknown', USER, { store: { buckt: 'x' }, colour: 'blue' });
    expect(policyError(() => loadEffectiveConfig(unknown.userPath, unknown.policyPath)).problems.map((p) => p.setting).sort())
      .toEqual(['colour', 'store.buckt']);

    const type = files('policy-type', USER, { store: { type: 'ftp', host: 'x' } });
    const typeErr = policyError(() => loadEffectiveConfig(type.userPath, type.policyPath));
    expect(typeErr.problems.some((p) => p.setting.startsWith('store'))).toBe(true);

    const relative = files('policy-relative', USER, { watch: [{ path: 'ecg-out', kind: 'ecg' }], dataDir: '/var/lib/medrelay' });
    const relErr = policyError(() => loadEffectiveConfig(relative.userPath, relative.policyPath));
    expect(relErr.problems).toEqual([{ setting: 'watch[0].path', value: 'ecg-out', expected: expect.stringMatching(/absolute path/) }]);
    const keys = files('policy-relative-keys', USER, {
      encryption: { keyrings: [{ type: 'rsa', publicKeyFile: 'reader.pub.pem' }] }, retention: { action: 'archive', archiveDir: 'done' },
    });
    expect(policyError(() => loadEffectiveConfig(keys.userPath, keys.policyPath)).problems.map((p) => p.setting))
      .toEqual(['encryption.keyrings[0].publicKeyFile', 'retention.archiveDir']);
  });

  it('refuses a policy file that is not JSON, not an object, or not readable, naming the file', () => {
    const notJson = files('policy-notjson', USER, '{ "store": ');
    expect(() => loadEffectiveConfig(notJson.userPath, notJson.policyPath)).toThrow(/policy file .*policy\.json is invalid[\s\S]*not valid JSON/);

    const array = files('policy-array', USER, '["store"]');
    expect(policyError(() => loadEffectiveConfig(array.userPath, array.policyPath)).problems[0]).toMatchObject({ setting: '(root)', expected: expect.stringMatching(/JSON object/) });

    const folder = files('policy-folder', USER);
    mkdirSync(folder.policyPath);
    expect(() => loadEffectiveConfig(folder.userPath, folder.policyPath)).toThrow(/cannot be read/);
  });

  it('with an optional user file and defaults, runs on the policy alone', () => {
    const { dir, userPath, policyPath } = files('policy-only', undefined, {
      store: { type: 'folder', path: '/mnt/nas/records' }, watch: [{ path: '/srv/ecg-out', kind: 'ecg' }],
      encryption: { keyrings: [{ type: 'aes', keyId: 'site-1', keyFile: '/etc/medrelay/site-1.key.json' }] },
    });
    expect(() => loadEffectiveConfig(userPath, policyPath)).toThrow(/cannot read config file/);
    const { config, locked } = loadEffectiveConfig(userPath, policyPath, { userConfigOptional: true, defaults: { dataDir: join(dir, 'app-data') } });
    expect(config).toMatchObject({ dataDir: join(dir, 'app-data'), store: { type: 'folder', path: '/mnt/nas/records' } });
    expect(locked).toEqual(['encryption.keyrings', 'store.path', 'store.type', 'watch']);
  });
});
