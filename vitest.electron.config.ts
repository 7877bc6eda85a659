// `npm run test:electron`: the Playwright _electron smoke test, which needs the Electron binary
// (not downloadable on the development machines here) and a display. Not part of `npm test`
// (vitest.config.ts excludes test/e2e-electron); no S3 server needed: the app runs its demo profile.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e-electron/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
