import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src-main/core/config/load.js';
import { tempDir } from '../../support/tmp.js';

const minimal = {
  dataDir: 'data',
  store: { type: 's3', bucket: 'clinic-records', region: 'eu-west-1' },
  encryption: { keyrings: [{ type: 'aes', keyId: 'site-1', keyFile: 'keys/site-1.key.json' }] },
  credentials: { source: 'env' },
  watch: [{ path: 'inbox', kind: 'auto' }],
};

describe('config', () => {
  it('fills defaults and resolves paths against the config file folder', () => {
    const c = parseConfig(minimal, '/etc/medrelay');
    expect(c.dataDir).toBe('/etc/medrelay/data');
    expect(c.watch[0]!.path).toBe('/etc/medrelay/inbox');
    expect(c.encryption.keyrings[0]).toEqual({ type: 'aes', keyId: 'site-1', keyFile: '/etc/medrelay/keys/site-1.key.json' });
    expect(c.stability.windowMs).toBe(2000);
    expect(c.store.type === 's3' && c.store.checksum).toBe('when-required');
    expect(c.workstationId).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('names the setting, the value and what was expected', () => {
    const bad = { ...minimal, store: { ...minimal.store, bucket: 'Bad Bucket' }, watch: [{ path: 'x', kind: 'pdf' }] };
    let message = '';
    try { parseConfig(bad, '/'); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/setting "store\.bucket" is "Bad Bucket": expected .*bucket name/);
    expect(message).toMatch(/setting "watch\[0\]\.kind" is "pdf": expected .*"ecg"/);
  });

  it('rejects unknown settings and a missing one by name', () => {
    expect(() => parseConfig({ ...minimal, colour: 'blue' }, '/')).toThrow(/unknown setting\(s\) "colour"/);
    const { dataDir: _d, ...noData } = minimal;
    expect(() => parseConfig(noData, '/')).toThrow(/setting "dataDir" is missing/);
  });

  it('requires a keyring unless sse-only is chosen explicitly', () => {
    expect(() => parseConfig({ ...minimal, encryption: {} }, '/')).toThrow(/setting "encryption\.keyrings" is missing: expected at least one keyring/);
    const { encryption: _e, ...noEncryption } = minimal;
    expect(() => parseConfig(noEncryption, '/')).toThrow(/setting "encryption" is missing/);
    expect(parseConfig({ ...minimal, encryption: { mode: 'sse-only' } }, '/').encryption.mode).toBe('sse-only');
  });

  it('rejects a key template without the date first', () => {
    expect(() => parseConfig({ ...minimal, layout: { ecgReport: 'x/{file}/{yyyy}/{mm}/{dd}' } }, '/')).toThrow(/layout\.ecgReport.*first placeholder/);
  });

  it('reports unreadable and non-JSON files with their path', () => {
    const dir = tempDir('cfg');
    const f = join(dir, 'medrelay.json');
    writeFileSync(f, '{ not json');
    expect(() => loadConfig(f)).toThrow(ConfigError);
    expect(() => loadConfig(f)).toThrow(f);
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/cannot read config file .*missing\.json/);
  });
});
