// The status page in Chromium against a real agent: a report dropped into a watched folder is
// counted as waiting, then as uploaded, and lands in the bucket; pause and resume work from the page.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { listRecordKeys, testS3Client } from '../support/s3.js';
import { withApp } from './support/app.js';
import { launchChromium } from './support/chromium.js';

let browser: Browser;
beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => { await browser?.close(); });

/** The number the page shows for a job state (the `count-<state>` tile). */
const count = (page: Page, state: string) => page.locator(`.count-${state} dd`);
const text = (page: Page, selector: string) => () => page.locator(selector).first().textContent();
const POLL = { timeout: 20_000, interval: 100 };

describe('status page (Chromium, real agent)', () => {
  it('shows a dropped report as waiting, then as uploaded, and the report is in the bucket', async () => {
    await withApp({ browser, store: 's3' }, async (app) => {
      const { page } = app;
      await expect.poll(() => count(page, 'done').textContent(), POLL).toBe('0');
      expect(await page.locator('.folders').textContent()).toContain(app.inbox.ecg);

      // Held while paused, so the page has time to show the job waiting.
      await page.getByRole('button', { name: 'Pause uploads' }).click();
      await expect.poll(text(page, '[role=status]'), POLL).toBe('Uploads are paused');
      writeFileSync(join(app.inbox.ecg, 'ECG_Report_20240315_101500.pdf'), samplePdf('E2E report'));
      await expect.poll(() => count(page, 'queued').textContent(), POLL).toBe('1');
      expect(await count(page, 'done').textContent()).toBe('0');
      expect(await page.locator('.muted', { hasText: 'Oldest waiting' }).textContent()).toContain('ECG_Report_20240315_101500.pdf');

      await page.getByRole('button', { name: 'Resume uploads' }).click();
      await expect.poll(() => count(page, 'done').textContent(), POLL).toBe('1');
      expect(await count(page, 'queued').textContent()).toBe('0');
      expect(await text(page, '[role=status]')()).toBe('Uploading');
      expect(await page.locator('.problems li').count()).toBe(0);
      // The 'status' push for 'done' can still list the upload in flight (the queue publishes
      // before it forgets the upload); the next poll clears it.
      await expect.poll(text(page, '[aria-labelledby=inflight-title] p'), POLL).toBe('Nothing is uploading.');

      const s3 = testS3Client();
      try {
        expect(await listRecordKeys(s3, app.bucket!)).toEqual(['ecg-reports/2024/03/15/ECG_Report_20240315_101500.pdf']);
      } finally {
        s3.destroy();
      }
      await app.screenshot('status');
    });
  });

  it('pauses and resumes the agent from the page, and shows a pause made elsewhere (the tray)', async () => {
    await withApp({ browser }, async (app) => {
      const { page, agent } = app;
      const pause = page.getByRole('button', { name: 'Pause uploads' });
      const resume = page.getByRole('button', { name: 'Resume uploads' });

      await pause.click();
      await resume.waitFor();
      expect(agent.status().paused).toBe(true);
      writeFileSync(join(app.inbox.ecg, 'ECG_Report_20240316_090000.pdf'), samplePdf('paused'));
      await expect.poll(() => agent.status().counts.queued, POLL).toBe(1);
      // Paused means paused: well past the stability window, nothing has been uploaded.
      await new Promise((r) => setTimeout(r, 1000));
      expect(agent.status().counts).toMatchObject({ queued: 1, uploading: 0, done: 0 });

      await resume.click();
      await pause.waitFor();
      expect(agent.status().paused).toBe(false);
      await expect.poll(() => count(page, 'done').textContent(), POLL).toBe('1');

      // The tray calls the same API; the page follows within a poll.
      await agent.api.pauseUploads();
      await expect.poll(text(page, '[role=status]'), POLL).toBe('Uploads are paused');
      await resume.waitFor();
      await agent.api.resumeUploads();
      await expect.poll(text(page, '[role=status]'), POLL).toBe('Uploading');
    });
  });
});
