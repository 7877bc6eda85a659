#!/usr/bin/env node
// The Electron security gate (npm run check:electron; CI). Two checks, both must pass:
//  1. @doyensec/electronegativity over the shell as it ships: the main-process sources
//     (src-main/electron), the bundled preload and the renderer page (for its CSP). It exits 0
//     whatever it finds, so its CSV report is read and any HIGH or MEDIUM finding fails, except
//     PRELOAD_JS_CHECK (a preload is our design; it is reviewed instead: preload.ts, and
//     test/electron/preload.test.ts pins its surface) and REMOTE_MODULE_JS_CHECK (the remote
//     module no longer exists in current Electron).
//  2. Our own reading of the sources: electronegativity rates `nodeIntegration: true` as
//     informational only, so any weakened webPreferences value fails here (see WEAKENED).
//
// Usage: node scripts/check-electron-security.mjs [--main DIR] [--keep]
//   --main DIR  the main-process folder to check (default src-main/electron); tests point it at fixtures
//   --keep      keep the staging folder and the CSV report, and print where they are
// Exit: 0 clean, 1 findings, 2 the check itself could not run or read the report.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** Findings that are reviewed by hand rather than failed on; why is in the header above. */
const ALLOWED = new Set(['PRELOAD_JS_CHECK', 'REMOTE_MODULE_JS_CHECK']);
const FAILING_SEVERITIES = new Set(['HIGH', 'MEDIUM']);
const SEVERITIES = new Set(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH']);
/**
 * Checks not run: this one downloads Electron's release list from GitHub to compare versions
 * (no network in CI; `npm outdated`/Dependabot cover it). Names are the check class names.
 */
const SKIPPED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

/** webPreferences (and BrowserWindow/webview) settings and the only value each may have. */
const WEAKENED = {
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  contextIsolation: true,
  sandbox: true,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  enableRemoteModule: false,
  /** Any value turns on Blink features outside the stable set. */
  enableBlinkFeatures: undefined,
};

function parseArgs(argv) {
  const opts = { main: join(root, 'src-main/electron'), keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--main' && argv[i + 1]) opts.main = resolve(argv[++i]);
    else if (argv[i] === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: check-electron-security.mjs [--main DIR] [--keep])`);
  }
  if (!existsSync(opts.main) || !statSync(opts.main).isDirectory()) throw new Error(`${opts.main} is not a folder`);
  return opts;
}

function sourceFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

// ---- 2. weakened webPreferences, read with the TypeScript parser ----------------------------

function propertyName(node) {
  const n = node.name;
  if (!n) return null;
  if (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  return null;
}

function literalBoolean(expr) {
  while (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression?.(expr)) expr = expr.expression;
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  return undefined;
}

/** Every object property named in WEAKENED whose value is not the literal safe one. */
export function weakenedSettings(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) {
      const name = propertyName(node);
      if (name !== null && Object.hasOwn(WEAKENED, name)) {
        const safe = WEAKENED[name];
        const value = ts.isPropertyAssignment(node) ? literalBoolean(node.initializer) : undefined;
        const shown = ts.isPropertyAssignment(node) ? node.initializer.getText(source) : name;
        if (safe === undefined || value !== safe) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          found.push({
            file, line: line + 1, setting: name, value: shown,
            expected: safe === undefined ? 'not set at all' : `the literal ${String(safe)}`,
          });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

// ---- 1. electronegativity -------------------------------------------------------------------

function electronVersion() {
  try {
    return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  } catch {
    const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies?.electron ?? '';
    return range.replace(/^[^\d]*/, '') || '45.0.0';
  }
}

/** What the app ships, in one folder: main-process code, the bundled preload, the page with its CSP. */
function stage(mainDir) {
  const dir = mkdtempSync(join(tmpdir(), 'medrelay-electronegativity-'));
  cpSync(mainDir, join(dir, 'main'), { recursive: true, filter: (src) => !src.endsWith('.d.ts') && !src.endsWith('.map') });
  const preload = join(root, 'dist/src-main/electron/preload.cjs');
  if (existsSync(preload)) cpSync(preload, join(dir, 'preload/preload.cjs'));
  const page = [join(root, 'dist/renderer/index.html'), join(root, 'src-renderer/index.html')].find(existsSync);
  if (page) cpSync(page, join(dir, 'renderer/index.html'));
  return { dir, shipsPreload: existsSync(preload) };
}

function runElectronegativity(input, csv, version) {
  const bin = require.resolve('@doyensec/electronegativity/dist/index.js');
  const args = [
    '--require', join(root, 'scripts/lib/no-network.cjs'), '--require', join(root, 'scripts/lib/serial-writes.cjs'), bin,
    '-i', input, '-o', csv, '-r', '-e', version, '-x', SKIPPED_CHECKS.join(','),
  ];
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd: input, timeout: 180_000, env: { ...process.env, LANG: 'en-US' } },
      (error, stdout, stderr) => done({ error, output: `${stdout}${stderr}` }));
  });
}

/** One CSV field list per line; fields are bare or double-quoted with "" for a quote. */
function parseCsvLine(line) {
  const fields = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"' && line[i + 1] === '"') { value += '"'; i += 2; continue; }
        if (line[i] === '"') { i++; break; }
        value += line[i++];
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') return null;
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      fields.push(line.slice(i, stop).trim());
      i = stop + 1;
    }
  }
  return fields;
}

const HEADER = 'issue, severity, confidence, filename, location, sample, description, url';

/**
 * The report's findings. Electronegativity writes the header and the rows with two unchained
 * writes (serial-writes.cjs puts them in order); should a report still not be exactly "header,
 * then well-formed rows", that is an error (exit 2), never read as "no findings".
 */
export function readReport(csvText) {
  const lines = csvText.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0]?.trim() !== HEADER) throw new Error(`the report does not start with its header line (got ${JSON.stringify(lines[0] ?? '')})`);
  return lines.slice(1).map((line, i) => {
    const f = parseCsvLine(line);
    if (!f || f.length !== 8 || !SEVERITIES.has(f[1]) || !/^[A-Z0-9_]+$/.test(f[0])) {
      throw new Error(`line ${i + 2} of the report is not a finding: ${line.slice(0, 200)}`);
    }
    return { id: f[0], severity: f[1], confidence: f[2], file: f[3], location: f[4], sample: f[5], description: f[6] };
  });
}

// ---- main -----------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { dir, shipsPreload } = stage(opts.main);
  const csv = join(dir, 'electronegativity.csv');
  let failed = false;
  try {
    // The real package.json: its scripts are checked for Electron switches that weaken security.
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    const version = electronVersion();
    const run = await runElectronegativity(dir, csv, version);
    if (run.error && !existsSync(csv)) throw new Error(`electronegativity failed: ${run.error.message}\n${run.output}`);
    if (!existsSync(csv)) throw new Error(`electronegativity wrote no report (${csv})\n${run.output}`);
    const findings = readReport(readFileSync(csv, 'utf8'));
    const blocking = findings.filter((f) => FAILING_SEVERITIES.has(f.severity) && !ALLOWED.has(f.id));
    const reviewed = findings.filter((f) => ALLOWED.has(f.id));

    console.log(`electronegativity (Electron ${version}) on ${relative(root, opts.main) || opts.main}${shipsPreload ? ', the built preload' : ' (preload not built)'} and the renderer page: ${findings.length} finding(s)`);
    for (const f of reviewed) console.log(`  reviewed, not failed: ${f.id} ${f.severity} ${f.file}:${f.location}`);
    for (const f of blocking) {
      console.log(`  FAIL ${f.id} (${f.severity}, ${f.confidence}) ${f.file}:${f.location}: ${f.description}${f.sample && f.sample !== 'N/A' ? `\n       ${f.sample}` : ''}`);
    }
    if (blocking.length) failed = true;

    const weakened = sourceFiles(opts.main).flatMap((file) => weakenedSettings(file, readFileSync(file, 'utf8')));
    console.log(`webPreferences in ${relative(root, opts.main) || opts.main}: ${weakened.length ? `${weakened.length} weakened` : 'none weakened'}`);
    for (const w of weakened) {
      console.log(`  FAIL ${relative(root, w.file)}:${w.line}: ${w.setting} is ${w.value}; expected ${w.expected}`);
    }
    if (weakened.length) failed = true;
    console.log(failed ? 'Electron security check FAILED' : 'Electron security check passed');
  } finally {
    if (opts.keep) console.log(`kept ${dir} (report: ${csv})`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => { process.exitCode = code; }, (err) => {
    console.error(`check-electron-security: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
}
