// Second half of `npm run build` (after `tsc -b`): the three outputs tsc cannot make.
//  1. The preload, bundled to one CommonJS file: a sandboxed preload can require 'electron' and
//     nothing else, so src-shared and the bridge must be inlined.
//  2. The renderer, built by Vite into dist/renderer/ (index.html + hashed assets).
//  3. The `medrelay` command bundled into one file, dist/medrelay-cli.mjs: Node then reads and links
//     one module instead of several hundred (about half the start-up time; a one-shot run pays it
//     each time). dist/medrelay.mjs, the command itself, turns on Node's compile cache first, so
//     that V8 reads the bundle's compiled code from disk instead of compiling its 4 MB every time
//     (measured here: `medrelay --help` 0.22 s → 0.18 s).
import { build as esbuild } from 'esbuild';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as viteBuild } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const preloadOut = join(root, 'dist/src-main/electron/preload.cjs');

async function buildPreload() {
  const result = await esbuild({
    entryPoints: [join(root, 'src-main/electron/preload.ts')],
    outfile: preloadOut,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    // Electron 45: Node 22 and Chromium 140.
    target: ['node22', 'chrome140'],
    external: ['electron'],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  // Anything left as a require() other than electron would fail at runtime in the sandbox.
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports).filter((i) => i.external);
  const stray = [...new Set(imports.map((i) => i.path))].filter((p) => p !== 'electron');
  if (stray.length) throw new Error(`the preload bundle still requires ${stray.join(', ')}; a sandboxed preload can only require 'electron'`);
}

/** Native addons stay outside the bundle: they load their .node file relative to their package. */
const NATIVE = ['better-sqlite3', '@napi-rs/keyring'];
/** The command itself, a small launcher, and the bundle it loads (beside it). */
const cliOut = join(root, 'dist/medrelay.mjs');
const CLI_BUNDLE = 'medrelay-cli.mjs';

/**
 * The command: Node's on-disk compile cache (Node 22.1+; in the user's temp folder, keyed by the
 * file's contents, so a new build never runs stale code), then the bundle. Where the cache cannot be
 * written, Node goes on without it.
 */
const LAUNCHER = `#!/usr/bin/env node
// The medrelay command (built by scripts/build-bundles.mjs): see ${CLI_BUNDLE}.
import module from 'node:module';
module.enableCompileCache?.();
await import('./${CLI_BUNDLE}');
`;

/**
 * Node's own modules whose ES-module import costs the command's start: Node builds an ES module
 * facade for a builtin by reading every export, and `node:http` has lazy ones (fetch, WebSocket…)
 * that load undici. Measured here: `import 'node:http'` 44-62 ms, `require('node:http')` 6-9 ms;
 * `node:process` 10 ms. The bundle takes them with require() instead, as its CommonJS
 * dependencies already do; their exports are read when used, never all at load.
 */
const REQUIRED_BUILTINS = /^node:(http|https|process)$/;
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(build) {
    build.onResolve({ filter: REQUIRED_BUILTINS }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin-require' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

async function buildCli() {
  // The sealing worker thread is a file of its own, found beside the command (crypto/sealer.ts).
  for (const [entry, outfile] of [['dist/src-main/cli.js', join(root, 'dist', CLI_BUNDLE)], ['dist/src-main/core/crypto/seal-worker.js', join(root, 'dist/seal-worker.mjs')]]) {
    await esbuild({
      entryPoints: [join(root, entry)],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: ['node22'],
      external: NATIVE,
      // CommonJS dependencies call require() for Node's own modules; an ES module has none.
      banner: { js: "import { createRequire as __medrelayRequire } from 'node:module'; const require = __medrelayRequire(import.meta.url);" },
      plugins: [builtinsViaRequire],
      sourcemap: 'linked',
      logLevel: 'warning',
    });
  }
  writeFileSync(cliOut, LAUNCHER);
  chmodSync(cliOut, 0o755);
}

async function buildRenderer() {
  await viteBuild({ configFile: join(root, 'src-renderer/vite.config.ts'), logLevel: 'warn' });
  const html = join(root, 'dist/renderer/index.html');
  if (!existsSync(html)) throw new Error(`the renderer build did not produce ${relative(root, html)}`);
}

try {
  await buildPreload();
  await buildCli();
  await buildRenderer();
  console.log(`built ${relative(root, preloadOut)}, ${relative(root, cliOut)} and dist/renderer/`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
