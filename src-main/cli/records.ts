// The commands that run and inspect the upload agent: agent, status, get, retry, demo (list: browse.ts).
import { resolve } from 'node:path';
import { Agent, type OnceSummary } from '../core/agent.js';
import { defaultDemoDir, prepareDemo } from '../core/demo/profile.js';
import { writeSampleRecords } from '../core/demo/samples.js';
import { createLogger } from '../core/log.js';
import { need, needConfig, out, withAgent, type EarlyStart, type Flags } from './common.js';

function printSummary(s: OnceSummary, json: boolean): void {
  if (json) return out(JSON.stringify(s, null, 2));
  out(`scanned ${s.scanned} file(s): ${s.enqueued} new, ${s.alreadyKnown} already delivered or queued, ${s.delivered} delivered now`);
  const sections: [string, { file: string; reason: string }[]][] = [
    ['incomplete (not uploaded)', s.incomplete], ['rejected', s.rejected], ['needs attention', s.needsAttention],
    ['failed', s.failed], ['not delivered yet (will retry)', s.notDelivered],
  ];
  for (const [title, items] of sections) {
    if (!items.length) continue;
    out(`${title}:`);
    for (const i of items) out(`  ${i.file}: ${i.reason}`);
  }
}

function onceExitCode(s: OnceSummary): number {
  return s.incomplete.length || s.rejected.length || s.needsAttention.length || s.failed.length || s.notDelivered.length ? 1 : 0;
}

export async function runAgent(flags: Flags, early?: EarlyStart): Promise<number> {
  const config = early?.config ?? needConfig(flags);
  const log = createLogger({ dataDir: config.dataDir, quiet: flags.quiet ?? false });
  const agent = new Agent(config, { log });
  try {
    if (flags.once) {
      // The entry point's look at the folders (src-main/cli.ts), else the pass looks itself.
      const summary = await agent.runOnce(early ? { firstLook: early.firstLook } : {});
      printSummary(summary, flags.json ?? false);
      return onceExitCode(summary);
    }
    await agent.start();
    log.info(`watching ${config.watch.map((w) => w.path).join(', ')}; uploading to ${agent.store.location}`);
    await new Promise<void>((resolveStop) => {
      const stop = (signal: string) => {
        log.info(`${signal}: finishing uploads in flight`);
        resolveStop();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await agent.stop();
    return 0;
  } finally {
    agent.close();
  }
}

export async function runStatus(flags: Flags): Promise<number> {
  return withAgent(flags, (agent) => {
    const s = agent.status();
    if (flags.json) {
      out(JSON.stringify({ store: agent.store.location, ...s }, null, 2));
    } else {
      out(`store: ${agent.store.location}`);
      out(`jobs: ${Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (s.oldestWaiting) out(`oldest waiting: ${s.oldestWaiting.file} since ${s.oldestWaiting.since}`);
      if (s.nextRetryAt) out(`next retry: ${s.nextRetryAt}`);
      if (s.incompleteFiles) out(`files not taken: ${s.incompleteFiles}`);
      for (const e of s.recentErrors) out(`  [${e.code}] ${e.file}: ${e.reason}`);
    }
    return s.counts.failed || s.counts['needs-attention'] ? 1 : 0;
  });
}

export async function runGet(flags: Flags): Promise<number> {
  const key = need(flags, 'key', '--key KEY');
  const outPath = resolve(need(flags, 'out', '--out PATH'));
  return withAgent(flags, async (agent) => {
    const { originalName } = await agent.records.save(key, outPath);
    out(`wrote ${outPath}${originalName ? ` (originally ${originalName})` : ''}`);
    return 0;
  });
}

export async function runRetry(flags: Flags): Promise<number> {
  return withAgent(flags, (agent) => {
    // A person acted: also files that vanished (and were put back), beside what a restart retries.
    const n = agent.jobs.requeueParked(['auth', 'network', 'internal', 'not-found']);
    out(`${n} record(s) queued again; a running agent picks them up`);
    return 0;
  });
}

export async function runDemo(flags: Flags): Promise<number> {
  const dir = resolve(flags.dir ?? defaultDemoDir());
  const config = prepareDemo(dir);
  const written = await writeSampleRecords(resolve(dir, 'inbox'), new Date());
  out(`demo profile: ${config.configPath} (folder store, no cloud account)`);
  out(`wrote ${written.length} sample records into ${resolve(dir, 'inbox')}`);
  const agent = new Agent(config, { log: createLogger({ dataDir: config.dataDir, stderr: false }) });
  try {
    const summary = await agent.runOnce();
    printSummary(summary, false);
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    out(`stored in ${agent.store.location} for ${today}:`);
    for (const r of await agent.listDay(today)) out(`  ${r.kind.padEnd(11)} ${r.key}`);
    out(`next: medrelay status --config ${config.configPath}`);
    out(`      medrelay list --config ${config.configPath} --date ${today}`);
    return onceExitCode(summary);
  } finally {
    agent.close();
  }
}

