// `npm run bench`: throughput, latency and memory of the MedRelay agent against a bare AWS SDK
// upload and rclone (plain and crypt) on the same generated data, in one run. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareEncryption } from './lib/agent.mjs';
import { parseOptions, USAGE } from './lib/args.mjs';
import { CONCURRENCY, PART_SIZE, PARTS_IN_FLIGHT, runAgent, runRclone, runSdk } from './lib/bulk.mjs';
import { waitQuiet } from './lib/proc.mjs';
import { rcloneVersion, RCLONE_FLAGS, writeRcloneConf } from './lib/rclone.mjs';
import { aggregate, ratios, table, targets } from './lib/report.mjs';
import { runRestart } from './lib/restart.mjs';
import { openStore } from './lib/store.mjs';
import { runTrickle } from './lib/trickle.mjs';
import { FULL, generateA, generateB, QUICK } from './lib/workloads.mjs';

const ONCE_WINDOW_MS = 200;
/** A run in which more than this share of the machine was neither the tool nor the server is redone. */
const DISTURBED_PCT = 15;
/**
 * Waiting for a quiet machine and redoing disturbed runs are bounded, so that a run stays well
 * under 15 minutes even on a shared machine: seconds of waiting in all, and redos in all.
 */
const WAIT_BUDGET_S = { full: 150, quick: 30 };
const MAX_REDOS = { full: 4, quick: 1 };
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function versions() {
  const pkg = (name) => { try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; } };
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // Uncommitted changes outside bench/ are part of what was built and measured.
    dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', '.', ':!bench'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch { /* no git */ }
  return {
    node: process.version, clientS3: pkg('@aws-sdk/client-s3'), libStorage: pkg('@aws-sdk/lib-storage'),
    encryptionSdk: pkg('@aws-crypto/encrypt-node'), rclone: rcloneVersion(), commit, uncommittedFiles: dirty,
  };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const spec = opts.quick ? QUICK : FULL;
  const tmp = mkdtempSync(join(tmpdir(), 'medrelay-bench-'));
  const startedAt = new Date();
  const ctx = {
    tmp, seed: opts.seed, runId: startedAt.getTime().toString(36), store: null, encryption: null, rcloneConf: null,
    runTimeoutMs: opts.quick ? 60_000 : 120_000,
  };
  let closing = false;
  const cleanup = async () => {
    if (closing) return;
    closing = true;
    try { await ctx.store?.stop(); } catch (e) { log(`stopping the store: ${e.message}`); }
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { log(`${sig}: cleaning up`); void cleanup().then(() => process.exit(130)); });

  const result = {
    startedAt: startedAt.toISOString(), mode: opts.quick ? 'quick' : 'full', reps: opts.reps, seed: opts.seed, only: opts.only,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGB: Math.round(totalmem() / 1e9), loadavgAtStart: loadavg() }, versions: versions(),
    settings: {
      onceWindowMs: ONCE_WINDOW_MS, concurrency: CONCURRENCY, partSizeMiB: PART_SIZE / 1048576, partsInFlight: PARTS_IN_FLIGHT,
      rcloneFlags: RCLONE_FLAGS, sdk: { A: 'lib-storage Upload, same part size and parts in flight', B: 'PutObject of the file read into memory' },
    },
    workloads: {}, runs: [],
  };
  if (loadavg()[0] > 1) log(`warning: load average ${loadavg()[0].toFixed(2)} at start: something else is using the CPUs; figures will be low`);
  try {
    ctx.encryption = await prepareEncryption(join(tmp, 'keys'));
    log(ctx.encryption.why);
    result.encryption = { enabled: ctx.encryption.enabled, why: ctx.encryption.why };
    const useRclone = opts.rclone && result.versions.rclone !== null;
    if (!useRclone) log(opts.rclone ? 'rclone is not installed: skipping the rclone runs (apt-get install rclone), so the targets against rclone crypt are not measured' : '--no-rclone: skipping the rclone runs');

    const data = {};
    for (const w of ['A', 'B']) {
      if (!opts.only.includes(w)) continue;
      const t0 = Date.now();
      data[w] = (w === 'A' ? generateA : generateB)(join(tmp, 'data', w), spec[w], opts.seed);
      result.workloads[w] = spec[w];
      log(`generated ${w}: ${data[w].files.length} files, ${(data[w].bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    execFileSync('sync');

    let waitLeftS = WAIT_BUDGET_S[result.mode];
    let redos = 0;
    const quietly = async (maxS) => {
      const q = await waitQuiet({ maxS: Math.max(1, Math.min(maxS, waitLeftS)) });
      waitLeftS -= Math.max(0, q.waitedS - 1);
      return q;
    };
    const tools = ['agent', 'sdk', ...(useRclone ? ['rclone', 'rclone-crypt'] : []), ...(opts.extra ? ['agent-plain', 'sdk-unsigned'] : [])];
    const bulk = ['A', 'B'].filter((w) => data[w]);
    for (let rep = 1; rep <= opts.reps && bulk.length; rep++) {
      // Rotate the order so that no tool always runs first (or last) in a repetition.
      const order = tools.map((_, i) => tools[(i + rep - 1) % tools.length]);
      for (const w of bulk) {
        for (const tool of order) {
          let r;
          // A run that shared the machine with another program is done again (once), time allowing.
          for (let attempt = 1; attempt <= 2; attempt++) {
            // A fresh, empty store for every run, so that no run inherits the objects of the runs
            // before it (memstore keeps them all in RAM; the last tools of a rep wrote into a store
            // already holding 4-5 GB).
            await ctx.store?.stop();
            ctx.store = await openStore(tmp);
            result.store = { kind: ctx.store.kind, endpoint: ctx.store.endpoint };
            if (useRclone) ctx.rcloneConf = writeRcloneConf(tmp, ctx.store);
            const quiet = await quietly(attempt === 1 ? 15 : 45);
            if (quiet.busyPct >= 15) log(`warning: the machine is ${quiet.busyPct.toFixed(0)} % busy before ${w} ${tool}: something else is running`);
            try {
              if (tool === 'agent') r = await runAgent(ctx, w, data[w], rep, { windowMs: ONCE_WINDOW_MS });
              else if (tool === 'agent-plain') r = await runAgent(ctx, w, data[w], rep, { windowMs: ONCE_WINDOW_MS, label: tool, plain: true });
              else if (tool === 'sdk') r = await runSdk(ctx, w, data[w], rep);
              else if (tool === 'sdk-unsigned') r = await runSdk(ctx, w, data[w], rep, { unsignedPayload: true });
              else r = await runRclone(ctx, w, data[w], rep, tool === 'rclone' ? 's3' : 'crypt');
              r.busyBeforePct = quiet.busyPct;
              r.attempt = attempt;
              r.disturbed = r.otherPct > DISTURBED_PCT;
              log(`${w} rep ${rep} ${tool.padEnd(12)} ${r.wallS.toFixed(2)} s  ${r.mbPerS.toFixed(1)} MB/s  ${r.filesPerS.toFixed(1)} files/s  ${r.cpuSPerGB?.toFixed(2)} CPU-s/GB  RSS ${r.maxRssMB?.toFixed(0)} MB  other ${r.otherPct?.toFixed(0)} %${r.disturbed ? '  (DISTURBED)' : ''}`);
            } catch (e) {
              r = { workload: w, tool, rep, error: e.message.slice(0, 2000) };
              log(`${w} rep ${rep} ${tool}: ERROR ${e.message.slice(0, 500)}`);
            }
            if (!r.disturbed || redos >= MAX_REDOS[result.mode] || waitLeftS <= 0) break;
            redos++;
            result.runs.push({ ...r, discarded: true });
          }
          result.runs.push(r);
        }
      }
    }
    for (const w of ['A', 'B']) rmSync(join(tmp, 'data', w), { recursive: true, force: true });

    if (opts.only.includes('C') || opts.only.includes('R')) {
      await ctx.store?.stop();
      ctx.store = await openStore(tmp);
      result.store = { kind: ctx.store.kind, endpoint: ctx.store.endpoint };
    }
    if (opts.only.includes('C')) {
      result.workloads.C = spec.C;
      await waitQuiet({ maxS: 20 });
      try {
        result.trickle = await runTrickle(ctx, spec.C);
        log(`C p50 ${result.trickle.latencyS.p50.toFixed(3)} s, p95 ${result.trickle.latencyS.p95.toFixed(3)} s, max ${result.trickle.latencyS.max.toFixed(3)} s`);
      } catch (e) {
        result.trickle = { error: e.message.slice(0, 2000) };
        log(`C: ERROR ${e.message.slice(0, 500)}`);
      }
    }
    if (opts.only.includes('R')) {
      result.workloads.R = spec.R;
      await waitQuiet({ maxS: 20 });
      try {
        result.restart = await runRestart(ctx, spec.R, opts.quick ? 1 : 3);
        log(`R first upload after ${result.restart.runs.map((r) => r.firstDoneS.toFixed(3)).join(', ')} s`);
      } catch (e) {
        result.restart = { error: e.message.slice(0, 2000) };
        log(`R: ERROR ${e.message.slice(0, 500)}`);
      }
    }
  } finally {
    await cleanup();
  }
  result.finishedAt = new Date().toISOString();
  result.agg = aggregate(result.runs);
  result.ratios = ratios(result.agg);
  result.targets = targets(result.agg, result.ratios, result.trickle, result.restart);
  const text = table(result);
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\n${text}\n\nwrote ${outFile}\n`);
  return result.runs.some((r) => r.error) || result.trickle?.error || result.restart?.error ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
