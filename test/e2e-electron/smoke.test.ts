// The desktop app for real: Playwright's _electron launches the built app (dist/, `npm run build`)
// with a throwaway profile, sees its window and its tray. Runs with `npm run test:electron` where
// the Electron binary is installed and a display exists (Linux CI: `xvfb-run -a npm run
// test:electron`); skips, saying why, anywhere else.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The Electron binary, found the way node_modules/electron finds it but without importing it:
 * its index.js starts a download when the binary is missing.
 */
function electronBinary(): { path: string } | { missing: string } {
  if (process.env.MEDRELAY_ELECTRON) {
    return existsSync(process.env.MEDRELAY_ELECTRON) ? { path: process.env.MEDRELAY_ELECTRON } : { missing: `MEDRELAY_ELECTRON=${process.env.MEDRELAY_ELECTRON} does not exist` };
  }
  const pkg = join(ROOT, 'node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return { missing: `the Electron binary is not installed (${pathFile} is missing: it was installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline)` };
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const binary = join(dist, readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { path: binary } : { missing: `the Electron binary ${binary} is missing` };
}

function skipReason(): string | null {
  const binary = electronBinary();
  if ('missing' in binary) return `${binary.missing}; install it with "npx install-electron" where downloads are allowed, or set MEDRELAY_ELECTRON`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display: run it as "xvfb-run -a npm run test:electron"';
  if (!existsSync(join(ROOT, 'dist/src-main/electron/main.js'))) return 'the app is not built: run "npm run build"';
  return null;
}

const reason = skipReason();
if (reason) console.warn(`test/e2e-electron skipped: ${reason}`);

describe.skipIf(reason !== null)(`MedRelay desktop app${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let app: ElectronApplication;
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'medrelay-electron-'));
    const binary = electronBinary() as { path: string };
    app = await _electron.launch({
      executablePath: binary.path,
      // Root in a container cannot use Chromium's sandbox; everywhere else it stays on.
      args: [ROOT, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      cwd: ROOT,
      // A profile of its own: userData (settings, demo data, database) lands in the temp folder.
      env: {
        ...process.env, MEDRELAY_TEST_HOOKS: '1',
        HOME: profile, XDG_CONFIG_HOME: join(profile, 'config'), APPDATA: join(profile, 'AppData'), LOCALAPPDATA: join(profile, 'LocalAppData'),
      },
      timeout: 60_000,
    });
  });

  afterAll(async () => {
    await app?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('opens the MedRelay window on the status page', async () => {
    const window = await app.firstWindow();
    await window.waitForLoadState('domcontentloaded');
    expect(await window.title()).toBe('MedRelay');
    await window.getByRole('heading', { name: 'Records' }).waitFor();
    const url = window.url();
    expect(url).toMatch(/^file:.*\/dist\/renderer\/index\.html$/);
    // The page reached main through the preload: the status shows the demo profile's folders.
    await window.locator('.folders li').first().waitFor();
  });

  it('creates the tray icon and shows all-well', async () => {
    const tray = await app.evaluate(async () => {
      const key = Symbol.for('medrelay.test.tray');
      for (let i = 0; i < 100; i++) {
        const t = (globalThis as Record<symbol, { shown(): { state: string; paused: boolean } } | undefined>)[key];
        if (t) return t.shown();
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    });
    expect(tray).toEqual({ state: 'ok', paused: false });
  });

  it('keeps the renderer sandboxed: no Node in the page, only window.medrelay', async () => {
    const window = await app.firstWindow();
    const page = await window.evaluate(() => ({
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
      bridge: Object.keys((globalThis as unknown as Record<string, object | undefined>).medrelay ?? {}).sort(),
    }));
    expect(page.require).toBe('undefined');
    expect(page.process).toBe('undefined');
    expect(page.bridge).toContain('getStatus');
  });
});
