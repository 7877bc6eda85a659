// Second half of `npm run build` (after `tsc -b`): the two outputs tsc cannot make.
//  1. The preload, bundled to one CommonJS file: a sandboxed preload can require 'electron' and
//     nothing else, so src-shared and the bridge must be inlined.
//  2. The renderer, built by Vite into dist/renderer/ (index.html + hashed assets).
import { build as esbuild } from 'esbuild';
import { existsSync } from 'node:fs';
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

async function buildRenderer() {
  await viteBuild({ configFile: join(root, 'src-renderer/vite.config.ts'), logLevel: 'warn' });
  const html = join(root, 'dist/renderer/index.html');
  if (!existsSync(html)) throw new Error(`the renderer build did not produce ${relative(root, html)}`);
}

try {
  await buildPreload();
  await buildRenderer();
  console.log(`built ${relative(root, preloadOut)} and dist/renderer/`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
