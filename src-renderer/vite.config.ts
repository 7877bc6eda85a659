// Builds the renderer into dist/renderer/, loaded by Electron main from a file: URL (hence the
// relative base). Run by scripts/build-bundles.mjs after `tsc -b`; tsc does not check this file.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Electron 45 ships Chromium 140.
    target: 'chrome140',
    sourcemap: true,
    // No data: URLs: the CSP allows images and fonts from the app's own files only.
    assetsInlineLimit: 0,
  },
});
