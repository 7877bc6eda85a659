// How the built command starts: dist/medrelay.mjs turns on Node's compile cache, in the user's temp
// folder, before it loads the bundle (scripts/build-bundles.mjs), and starts without one when that
// folder cannot be written.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function envWithTemp(tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  return env;
}

/** Bytes of the files under `dir`, recursively. */
function bytesUnder(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}

describe('the medrelay command at start', () => {
  it("keeps the bundle's compiled code in the temp folder's compile cache, and runs from it the next time", async () => {
    const tmp = tempDir('start-cache');
    const first = await runCli(['--help'], { env: envWithTemp(tmp) });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Usage: medrelay');
    // The bundle is about 4 MB of source: its code cache is far above anything else the cache holds.
    expect(bytesUnder(join(tmp, 'node-compile-cache'))).toBeGreaterThan(200_000);
    const second = await runCli(['--help'], { env: envWithTemp(tmp) });
    expect(second).toMatchObject({ code: 0, stdout: first.stdout });
  });

  it('starts without a cache when the temp folder cannot hold one', async () => {
    const tmp = tempDir('start-nocache');
    // A file where the cache folder would go.
    writeFileSync(join(tmp, 'node-compile-cache'), 'not a folder');
    const r = await runCli(['--help'], { env: envWithTemp(tmp) });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('Usage: medrelay');
  });
});
