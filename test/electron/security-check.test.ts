// scripts/check-electron-security.mjs (npm run check:electron, CI): passes on our shell, fails on a
// deliberately weakened one, and fails on `nodeIntegration: true` alone, which electronegativity
// rates as informational only. A garbled report is an error, never "no findings".
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/check-electron-security.mjs');

function check(main: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [SCRIPT, '--main', main], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}

interface ScriptModule {
  readReport(csv: string): { id: string; severity: string }[];
  weakenedSettings(file: string, text: string): { setting: string; line: number }[];
}
const load = async () => (await import(SCRIPT)) as ScriptModule;

describe('check-electron-security', () => {
  it('passes on src-main/electron, reporting the preload finding as reviewed', async () => {
    const { code, output } = await check(join(ROOT, 'src-main/electron'));
    expect(output).toContain('Electron security check passed');
    expect(output).toMatch(/reviewed, not failed: PRELOAD_JS_CHECK/);
    expect(code).toBe(0);
  });

  it('fails on a weakened BrowserWindow, naming the findings and every weakened setting', async () => {
    const { code, output } = await check(join(ROOT, 'test/fixtures/electron-weak'));
    expect(code).toBe(1);
    expect(output).toMatch(/FAIL CONTEXT_ISOLATION_JS_CHECK \(HIGH/);
    expect(output).toMatch(/FAIL SANDBOX_JS_CHECK/);
    for (const setting of ['nodeIntegration is true', 'contextIsolation is false', 'sandbox is false', 'webSecurity is isDev ? false : true',
      'allowRunningInsecureContent is true', 'experimentalFeatures is true', "enableBlinkFeatures is 'CSSVariables'",
      'nodeIntegrationInWorker is true', 'nodeIntegrationInSubFrames is true']) {
      expect(output).toContain(setting);
    }
    expect(output).toContain('Electron security check FAILED');
  });

  it('fails on our own shell with only nodeIntegration turned on', async () => {
    const main = join(tempDir('weak-shell'), 'electron');
    cpSync(join(ROOT, 'src-main/electron'), main, { recursive: true });
    const window = join(main, 'window.ts');
    const text = readFileSync(window, 'utf8');
    expect(text).toContain('nodeIntegration: false,');
    writeFileSync(window, text.replace('nodeIntegration: false,', 'nodeIntegration: true,'));
    const { code, output } = await check(main);
    expect(code).toBe(1);
    // electronegativity alone would let it through: no blocking finding from it.
    expect(output).not.toMatch(/FAIL [A-Z_]+_CHECK/);
    expect(output).toMatch(/FAIL .*window\.ts:\d+: nodeIntegration is true; expected the literal false/);
  });

  it('reads a report only when it is a header and well-formed rows', async () => {
    const { readReport } = await load();
    const header = 'issue, severity, confidence, filename, location, sample, description, url';
    const row = 'SANDBOX_JS_CHECK,"MEDIUM","FIRM","main/w.ts","3:1","sandbox: false, ""x""","Use sandbox",https://example.invalid/wiki';
    expect(readReport(`${header}\n${row}\n`)).toEqual([expect.objectContaining({ id: 'SANDBOX_JS_CHECK', severity: 'MEDIUM', sample: 'sandbox: false, "x"' })]);
    expect(readReport(`${header}\n`)).toEqual([]);
    expect(() => readReport(row)).toThrow(/header/);
    expect(() => readReport('')).toThrow(/header/);
    expect(() => readReport(`${header}\n${row.slice(20)}`)).toThrow(/not a finding/);
  });

  it('flags non-literal and string-keyed weakened settings, not safe ones', async () => {
    const { weakenedSettings } = await load();
    const found = weakenedSettings('w.ts', `
      new BrowserWindow({ webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false } });
      const prefs = { 'sandbox': false, contextIsolation: dev, webviewTag: true as boolean };
      const { sandbox } = other; const o = { sandbox };
    `);
    expect(found.map((f) => f.setting)).toEqual(['sandbox', 'contextIsolation', 'webviewTag', 'sandbox']);
  });
});
