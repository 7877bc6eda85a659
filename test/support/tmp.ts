// Temp folders for tests, removed when the test that made them ends (or, made outside a test, when
// the test file ends).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `medrelay-${label}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // Vitest never runs an afterAll registered while a test is running: such folders were left behind.
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return dir;
}
