// Debian's Chromium, driven by playwright-core (never `playwright install`: nothing is downloaded).
// scripts/system-deps.sh installs it; MEDRELAY_CHROMIUM points elsewhere if needed.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.MEDRELAY_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, headless run as root in a container. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/system-deps.sh does) or set MEDRELAY_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
