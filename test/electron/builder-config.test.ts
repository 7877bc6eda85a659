// electron-builder.yml is checked by the installed electron-builder's own schema (the Electron
// binary and the packaging tools are not needed for that), and keeps what IT relies on:
// per-machine Windows installers, a hardened macOS runtime, the Linux packages, no native rebuild.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);

type Config = Record<string, unknown> & {
  win: { target: { target: string }[] }; nsis: Record<string, unknown>; msi: Record<string, unknown>;
  mac: Record<string, unknown> & { target: { target: string }[] }; linux: { target: string[] };
};
interface ConfigModule {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Config>;
  validateConfiguration(config: Config, logger: unknown): Promise<void>;
}

async function load(): Promise<Config> {
  // app-builder-lib is electron-builder's own library; its validation is what `electron-builder` runs first.
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as ConfigModule;
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = await getConfig(ROOT, resolve(ROOT, 'electron-builder.yml'), null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's schema and builds the installers IT deploys", async () => {
    const config = await load();
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis', 'msi']);
    expect(config.nsis).toMatchObject({ perMachine: true, oneClick: false });
    expect(config.msi).toMatchObject({ perMachine: true });
    expect(config.mac).toMatchObject({ hardenedRuntime: true });
    expect(config.mac.target.map((t) => t.target)).toEqual(['dmg', 'pkg']);
    expect(config.linux.target).toEqual(['deb', 'rpm', 'AppImage']);
    // N-API prebuilt native modules: no rebuild against Electron's headers.
    expect(config.npmRebuild).toBe(false);
  });

  it('holds no signing secret: certificates and passwords come from the environment', () => {
    const settings = readFileSync(resolve(ROOT, 'electron-builder.yml'), 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#'));
    const secretKeys = /^\s*(cscLink|cscKeyPassword|certificateFile|certificatePassword|certificateSha1|[A-Za-z]*[pP]assword|clientSecret)\s*:/;
    expect(settings.filter((l) => secretKeys.test(l))).toEqual([]);
  });
});
