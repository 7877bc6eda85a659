// The page-side bridge the harness installs behaves like the Electron preload's: the methods of
// API_METHODS plus `on`, Results for every call (bad input included), and pushes from the agent.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type JobEvent, type MedrelayBridge } from '../../src-shared/api.js';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { withApp } from './support/app.js';
import { launchChromium } from './support/chromium.js';

let browser: Browser;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => { await browser?.close(); });

// Functions passed to page.evaluate run in the page: they can use only what they declare.
type PageWindow = { medrelay: MedrelayBridge; e2eJobs: JobEvent[] };

describe('window.medrelay in the e2e harness', () => {
  it('has exactly the API methods plus on, and answers with Results, bad input included', async () => {
    await withApp({ browser }, async ({ page }) => {
      const keys = await page.evaluate(() => Object.keys((globalThis as unknown as PageWindow).medrelay).sort());
      expect(keys).toEqual([...API_METHODS, 'on'].sort());
      const bad = await page.evaluate(() => (globalThis as unknown as PageWindow).medrelay.listDay({ date: 'yesterday' }));
      expect(bad).toMatchObject({ ok: false, error: { code: 'bad-input' } });
      const none = await page.evaluate(() => (globalThis as unknown as PageWindow).medrelay.listDay({ date: '2024-03-17' }));
      expect(none).toEqual({ ok: true, value: [] });
      const status = await page.evaluate(() => (globalThis as unknown as PageWindow).medrelay.getStatus());
      expect(status).toMatchObject({ ok: true, value: { paused: false, counts: { done: 0 } } });
    });
  });

  it("delivers the agent's job events to listeners registered with on()", async () => {
    await withApp({ browser }, async ({ page, inbox }) => {
      await page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        w.e2eJobs = [];
        w.medrelay.on('job', (e) => { w.e2eJobs.push(e); });
      });
      writeFileSync(join(inbox.ecg, 'ECG_Report_20240317_080000.pdf'), samplePdf('events'));
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageWindow).e2eJobs.map((e) => e.state)), { timeout: 20_000 }).toContain('done');
      const done = await page.evaluate(() => (globalThis as unknown as PageWindow).e2eJobs.find((e) => e.state === 'done'));
      expect(done).toMatchObject({ key: 'ecg-reports/2024/03/17/ECG_Report_20240317_080000.pdf' });
      const listed = await page.evaluate(() => (globalThis as unknown as PageWindow).medrelay.listDay({ date: '2024-03-17' }));
      expect(listed).toMatchObject({ ok: true, value: [{ key: 'ecg-reports/2024/03/17/ECG_Report_20240317_080000.pdf', kind: 'ecg-report' }] });
    });
  });
});
