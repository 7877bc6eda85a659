// The command's entry point reads the configuration of `agent --once` and looks at its folders
// before it loads the rest of the command (src-main/cli.ts): what it hands over, and when it stays out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { earlyStart } from '../../src-main/cli/common.js';
import { tempDir } from '../support/tmp.js';

function site(label: string) {
  const dir = tempDir(label);
  mkdirSync(join(dir, 'inbox/ecg/ward-b'), { recursive: true });
  writeFileSync(join(dir, 'inbox/ecg/ECG_Report_20240102_080000.pdf'), 'a'.repeat(10));
  writeFileSync(join(dir, 'inbox/ecg/ward-b/ECG_Report_20240102_090000.pdf'), 'b'.repeat(20));
  writeFileSync(join(dir, 'inbox/ecg/.~lock.pdf'), 'temporary');
  const config = join(dir, 'medrelay.json');
  writeFileSync(config, JSON.stringify({
    dataDir: 'data', workstationId: 'ws-early', store: { type: 'folder', path: 'store' },
    encryption: { mode: 'sse-only' }, watch: [{ path: 'inbox/ecg', kind: 'ecg' }],
  }));
  return { dir, config, policy: join(dir, 'no-policy.json') };
}

describe('earlyStart', () => {
  it('reads the configuration of agent --once and lists its folders with each file\'s version', async () => {
    const { dir, config, policy } = site('early-once');
    const early = await earlyStart(['agent', '--once', '--config', config, '--policy', policy]);
    expect(early?.config.watch.map((w) => w.path)).toEqual([join(dir, 'inbox/ecg')]);
    expect(early?.firstLook.files.map((f) => [f.file, f.version?.size])).toEqual([
      [join(dir, 'inbox/ecg/ECG_Report_20240102_080000.pdf'), 10],
      [join(dir, 'inbox/ecg/ward-b/ECG_Report_20240102_090000.pdf'), 20],
    ]);
    expect(early!.firstLook.at).toBeLessThanOrEqual(performance.now());
  });

  it('stays out of every other command, and of a configuration that does not load', async () => {
    const { dir, config, policy } = site('early-other');
    expect(await earlyStart(['agent', '--config', config, '--policy', policy])).toBeUndefined();
    expect(await earlyStart(['status', '--once', '--config', config, '--policy', policy])).toBeUndefined();
    expect(await earlyStart(['agent', '--once', '--config', config, '--policy', policy, 'extra'])).toBeUndefined();
    expect(await earlyStart(['agent', '--once', '--help', '--config', config])).toBeUndefined();
    expect(await earlyStart(['agent', '--once'])).toBeUndefined();
    expect(await earlyStart(['agent', '--once', '--config', join(dir, 'missing.json')])).toBeUndefined();
    expect(await earlyStart(['agent', '--once', '--bogus'])).toBeUndefined();
  });
});
