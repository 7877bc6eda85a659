#!/usr/bin/env node
// The `medrelay` command. Its commands and their JSON output are a stable contract for scripts.
// Exit codes: 0 everything delivered / done, 1 something failed or needs a person, 2 bad usage
// or configuration.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, type OnceSummary } from './core/agent.js';
import { ConfigError, loadConfig, type ResolvedConfig } from './core/config/load.js';
import { defaultDemoDir, prepareDemo } from './core/demo/profile.js';
import { writeSampleRecords } from './core/demo/samples.js';
import { createLogger } from './core/log.js';
import { SchemaError } from './core/db/migrate.js';
import { StoreError } from './core/store/types.js';

const USAGE = `Usage: medrelay <command> [options]

Commands:
  agent --config FILE [--once]        watch the folders and upload (--once: one pass, then exit)
  status --config FILE [--json]       job counts, waiting and failing records
  list --config FILE --date YYYY-MM-DD [--json]   records stored for a day
  get --config FILE --key KEY --out PATH          write a stored record's original bytes
  retry --config FILE                 try again the records parked for a person
  demo [--dir DIR]                    deliver sample records to a local folder store (no cloud)

Exit codes: 0 ok, 1 a record failed or needs attention, 2 bad usage or configuration.`;

class UsageError extends Error {}

type Flags = { config?: string; once?: boolean; json?: boolean; date?: string; key?: string; out?: string; dir?: string; quiet?: boolean; help?: boolean };

function parse(argv: string[]): { command: string; flags: Flags } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' }, once: { type: 'boolean' }, json: { type: 'boolean' },
      date: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, dir: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  return { command: positionals[0] ?? '', flags: values };
}

function needConfig(flags: Flags): ResolvedConfig {
  if (!flags.config) throw new UsageError('--config FILE is required');
  return loadConfig(flags.config);
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

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

async function runAgent(flags: Flags): Promise<number> {
  const config = needConfig(flags);
  const log = createLogger({ dataDir: config.dataDir, quiet: flags.quiet ?? false });
  const agent = new Agent(config, { log });
  try {
    if (flags.once) {
      const summary = await agent.runOnce();
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

async function runStatus(flags: Flags): Promise<number> {
  const agent = new Agent(needConfig(flags));
  try {
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
  } finally {
    agent.close();
  }
}

async function runList(flags: Flags): Promise<number> {
  if (!flags.date || !/^\d{4}-\d{2}-\d{2}$/.test(flags.date)) throw new UsageError('--date YYYY-MM-DD is required');
  const agent = new Agent(needConfig(flags));
  try {
    const records = await agent.listDay(flags.date);
    if (flags.json) out(JSON.stringify(records, null, 2));
    else for (const r of records) out(`${r.uploadedAt}  ${r.kind.padEnd(11)} ${String(r.size).padStart(10)}  ${r.key}`);
    return 0;
  } finally {
    agent.close();
  }
}

async function runGet(flags: Flags): Promise<number> {
  if (!flags.key) throw new UsageError('--key KEY is required');
  if (!flags.out) throw new UsageError('--out PATH is required');
  const agent = new Agent(needConfig(flags));
  try {
    await agent.store.download(flags.key, resolve(flags.out));
    out(`wrote ${resolve(flags.out)}`);
    return 0;
  } finally {
    agent.close();
  }
}

async function runRetry(flags: Flags): Promise<number> {
  const agent = new Agent(needConfig(flags));
  try {
    const n = agent.jobs.requeueParked() + agent.db.prepare(`UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = NULL
      WHERE state = 'needs-attention' AND last_error_code = 'not-found'`).run().changes;
    out(`${n} record(s) queued again; a running agent picks them up`);
    return 0;
  } finally {
    agent.close();
  }
}

async function runDemo(flags: Flags): Promise<number> {
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

export async function main(argv: string[]): Promise<number> {
  let command: string;
  let flags: Flags;
  try {
    ({ command, flags } = parse(argv));
  } catch (e) {
    process.stderr.write(`medrelay: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help || command === 'help' || command === '') {
    out(USAGE);
    return command === '' && !flags.help ? 2 : 0;
  }
  const commands: Record<string, (f: Flags) => Promise<number>> = {
    agent: runAgent, status: runStatus, list: runList, get: runGet, retry: runRetry, demo: runDemo,
  };
  const run = commands[command];
  if (!run) {
    process.stderr.write(`medrelay: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(flags);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`medrelay ${command}: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof SchemaError) {
      process.stderr.write(`medrelay ${command}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof StoreError) {
      process.stderr.write(`medrelay ${command}: [${e.code}] ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`medrelay ${command}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // For the benchmark: the process's own CPU time and peak memory, measured by the kernel.
  if (process.env.MEDRELAY_USAGE === '1') {
    const u = process.resourceUsage();
    process.stderr.write(`medrelay-usage ${JSON.stringify({ userCpuSeconds: u.userCPUTime / 1e6, systemCpuSeconds: u.systemCPUTime / 1e6, maxRssBytes: u.maxRSS * 1024 })}\n`);
  }
});
