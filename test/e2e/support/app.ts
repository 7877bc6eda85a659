// withApp(): the whole app minus Electron, for UI tests. A real Agent (real SQLite, real watched
// folders, a site key file, a real folder store or the test RGW bucket) behind the built renderer in Debian's
// Chromium, with window.medrelay bound by bridge.ts exactly as the preload and ipc.ts do it.
//
//   await withApp({ store: 's3' }, async (app) => {
//     await app.page.getByRole('button', { name: 'Pause uploads' }).click();
//     writeFileSync(join(app.inbox.ecg, 'ECG_Report_20240315_101500.pdf'), samplePdf('x'));
//   });
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent } from '../../../src-main/core/agent.js';
import { loadConfig, parseConfig, type ResolvedConfig } from '../../../src-main/core/config/load.js';
import { S3Store } from '../../../src-main/core/store/s3.js';
import type { S3StoreConfig } from '../../../src-main/core/config/schema.js';
import { writeS3Config } from '../../support/cli.js';
import { makeKeyFile } from '../../support/keys.js';
import { freshBucket, testS3Client } from '../../support/s3.js';
import { bindApiToPage, type BoundPage } from './bridge.js';
import { launchChromium } from './chromium.js';
import { serveFolder, type StaticServer } from './serve.js';

const ROOT = resolve(import.meta.dirname, '../../..');
export const RENDERER_DIR = join(ROOT, 'dist/renderer');
export const SCREENSHOT_DIR = join(ROOT, 'test-results/e2e');

export interface AppOptions {
  /** `folder` (default): a store folder inside the app's temp dir. `s3`: a fresh bucket on the test S3 server. */
  store?: 'folder' | 's3';
  /** Settings merged over the defaults below (top-level keys replace). */
  settings?: Record<string, unknown>;
  /** Reuse a browser (one per test file is faster); otherwise one is launched and closed here. */
  browser?: Browser;
  viewport?: { width: number; height: number };
}

export interface App {
  page: Page;
  agent: Agent;
  config: ResolvedConfig;
  /** The app's temp folder: config, data, inbox, and the store for `folder`. */
  dir: string;
  /** Watched folders: inbox/ecg (kind ecg) and inbox/dicom (kind dicom). */
  inbox: { ecg: string; dicom: string };
  /** The bucket, for `store: 's3'`. */
  bucket: string | null;
  /** Saves a full-page PNG as test-results/e2e/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Short waits so tests see a file taken within about half a second. */
const FAST = {
  stability: { windowMs: 200, incompleteAfterMs: 2000 },
  queue: { concurrency: 2, retryBaseMs: 200, retryMaxMs: 2000 },
};

async function makeAgent(dir: string, opts: AppOptions): Promise<{ agent: Agent; config: ResolvedConfig; bucket: string | null }> {
  const watch = [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }];
  if (opts.store === 's3') {
    const bucket = await freshBucket('e2e');
    const config = loadConfig(writeS3Config(dir, bucket, { ...FAST, ...opts.settings }));
    // The test server's keys go to the client directly, not through process.env (credentials.source env).
    const store = new S3Store(testS3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', maxAttempts: 2 }), config.store as S3StoreConfig);
    return { agent: new Agent(config, { store, secrets: null }), config, bucket };
  }
  for (const w of watch) mkdirSync(join(dir, w.path), { recursive: true });
  const config = parseConfig({
    dataDir: 'data', workstationId: 'ws-e2e', store: { type: 'folder', path: 'store' },
    encryption: { keyrings: [{ type: 'aes', ...makeKeyFile(dir) }] }, watch, ...FAST, ...opts.settings,
  }, dir);
  return { agent: new Agent(config, { secrets: null }), config, bucket: null };
}

/** Starts agent, renderer server and page; the caller must close() it (withApp does). */
export async function startApp(opts: AppOptions = {}): Promise<App> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`${RENDERER_DIR}/index.html is missing: run "npm run build" before the e2e tests`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'medrelay-e2e-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch (err) { console.error('e2e cleanup:', err); }
    }
    cleanups.length = 0;
  };
  try {
    const { agent, config, bucket } = await makeAgent(dir, opts);
    cleanups.push(() => agent.close());
    await agent.start();
    cleanups.push(() => agent.stop());

    const server: StaticServer = await serveFolder(RENDERER_DIR);
    cleanups.push(() => server.close());
    let browser = opts.browser;
    if (!browser) {
      const own = await launchChromium();
      cleanups.push(() => own.close());
      browser = own;
    }
    const context: BrowserContext = await browser.newContext({ viewport: opts.viewport ?? { width: 1100, height: 760 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    // The renderer must not reach anything but its own server (its CSP says so too).
    await page.route((url) => !url.href.startsWith(`${server.origin}/`), (route) => route.abort('blockedbyclient'));
    const bound: BoundPage = await bindApiToPage(page, agent, server.isOurPage);
    cleanups.push(() => bound.unbind());
    await page.goto(server.pageUrl);

    return {
      page, agent, config, dir, bucket,
      inbox: { ecg: join(dir, 'inbox/ecg'), dicom: join(dir, 'inbox/dicom') },
      async screenshot(name) {
        mkdirSync(SCREENSHOT_DIR, { recursive: true });
        const path = join(SCREENSHOT_DIR, `${name}.png`);
        await page.screenshot({ path, fullPage: true });
        return path;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs `fn` with a started app and always closes it, pass or fail. */
export async function withApp<T>(opts: AppOptions, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await startApp(opts);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
