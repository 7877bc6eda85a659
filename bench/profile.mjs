// Where the agent's time goes on workloads A and B: runs `agent --once` under `node --cpu-prof`
// with bench/lib/instrument.mjs preloaded (SQLite statements and transactions, bytes hashed and
// encrypted, event-loop stalls), prints the top self-time functions and writes
// bench/results/profile-<time>/ (summary.json and the .cpuprofile files, for Chrome DevTools).
//   npm run build && node bench/profile.mjs [--only A,B] [--quick] [--seed N] [--keep]
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// The unbundled command (dist/src-main/cli.js): its file names say which package a function is
// in. Set before the bench modules load, since lib/agent.mjs picks the command when it loads.
process.env.MEDRELAY_BENCH_CLI = 'unbundled';
const { prepareEncryption } = await import('./lib/agent.mjs');
const { runAgent } = await import('./lib/bulk.mjs');
const { runRestart } = await import('./lib/restart.mjs');
const { summarize } = await import('./lib/cpuprofile.mjs');
const { openStore } = await import('./lib/store.mjs');
const { FULL, generateA, generateB, QUICK } = await import('./lib/workloads.mjs');

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The profiles `--cpu-prof` wrote to `dir`, one per thread (its file name ends with
 * `.<pid>.<thread id>.<sequence>.cpuprofile`; the main thread is thread 0), copied to `outDir` as
 * `<name>-main.cpuprofile` and `<name>-thread<id>.cpuprofile` and summarised.
 */
function threadProfiles(dir, name) {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, thread: Number(f.split('.').at(-3)) }))
    .sort((a, b) => a.thread - b.thread)
    .map(({ f, thread }) => {
      copyFileSync(join(dir, f), join(outDir, `${name}-${thread === 0 ? 'main' : `thread${thread}`}.cpuprofile`));
      return { thread, summary: summarize(join(dir, f)) };
    });
}
const INSTRUMENT = fileURLToPath(new URL('./lib/instrument.mjs', import.meta.url));

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' }, seed: { type: 'string' }, keep: { type: 'boolean' } } });
const only = (values.only ?? 'A,B,R').toUpperCase().split(',');
const spec = values.quick ? QUICK : FULL;
const seed = Number(values.seed ?? 1);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(ROOT, 'bench', 'results', `profile-${stamp}`);
const tmp = mkdtempSync(join(tmpdir(), 'medrelay-profile-'));
const ctx = { tmp, seed, runId: Date.now().toString(36), store: null, encryption: null };
const summary = { startedAt: new Date().toISOString(), mode: values.quick ? 'quick' : 'full', workloads: {} };

try {
  ctx.encryption = await prepareEncryption(join(tmp, 'keys'));
  summary.encryption = ctx.encryption.why;
  ctx.store = await openStore(tmp);
  mkdirSync(outDir, { recursive: true });
  for (const w of ['A', 'B']) {
    if (!only.includes(w)) continue;
    const data = (w === 'A' ? generateA : generateB)(join(tmp, 'data', w), spec[w], seed);
    const profDir = join(tmp, `prof-${w}`);
    // Two passes: a clean CPU profile, then the counters (whose wrappers would show in the profile).
    const r = await runAgent(ctx, w, data, 1, { windowMs: 200, label: 'profile', nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '500'] });
    const [main, ...workers] = threadProfiles(profDir, `agent-${w}`);
    const counted = await runAgent(ctx, w, data, 2, { windowMs: 200, label: 'instrumented', nodeArgs: ['--import', INSTRUMENT] });
    const line = counted.stderr.split('\n').find((l) => l.startsWith('bench-instrument '));
    const instrLine = line ? JSON.parse(line.slice('bench-instrument '.length)) : null;
    summary.workloads[w] = { run: { wallS: r.wallS, mbPerS: r.mbPerS, filesPerS: r.filesPerS, cpuSPerGB: r.cpuSPerGB, maxRssMB: r.maxRssMB, split: r.split }, instrument: instrLine, profile: main.summary,
      workerProfiles: workers.map((t) => ({ thread: t.thread, ...t.summary })) };
    rmSync(join(tmp, 'data', w), { recursive: true, force: true });
  }
  if (only.includes('R')) {
    // The agent restarted on a queue of 100,000 jobs, profiled for its first seconds of draining.
    const profDir = join(tmp, 'prof-R');
    const r = await runRestart(ctx, spec.R, 1, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '500'] });
    const [main] = threadProfiles(profDir, 'agent-R');
    const counted = await runRestart({ ...ctx, tmp: join(tmp, 'second'), runId: `${ctx.runId}i` }, spec.R, 1, { nodeArgs: ['--import', INSTRUMENT] });
    const line = counted.runs[0].stderr.split('\n').find((l) => l.startsWith('bench-instrument '));
    summary.workloads.R = {
      run: { firstDoneS: r.firstDoneS, backlogFilesPerS: r.backlogFilesPerS, queuedJobs: r.queuedJobs },
      instrument: line ? JSON.parse(line.slice('bench-instrument '.length)) : null, profile: main.summary,
    };
  }
} finally {
  await ctx.store?.stop();
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
}
writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
for (const [w, s] of Object.entries(summary.workloads)) {
  const p = s.profile;
  const head = w === 'R' ? `restart on ${s.run.queuedJobs} queued jobs, first upload ${s.run.firstDoneS.toFixed(2)} s, then ${s.run.backlogFilesPerS.toFixed(1)} files/s` : `${s.run.wallS.toFixed(2)} s wall under the profiler`;
  console.log(`\n=== ${w}: ${head}, ${p.busyMs} ms busy on the main thread of ${p.totalMs} ms`);
  console.log('by origin (self time):');
  for (const o of p.byOrigin.slice(0, 10)) console.log(`  ${String(o.ms).padStart(7)} ms ${String(o.pctOfBusy).padStart(5)} %  ${o.name}`);
  console.log('top self time:');
  for (const f of p.topSelf.slice(0, 20)) console.log(`  ${String(f.ms).padStart(7)} ms ${String(f.pctOfBusy).padStart(5)} %  ${f.name}`);
  console.log('MedRelay functions, inclusive:');
  for (const f of p.topInclusive.slice(0, 15)) console.log(`  ${String(f.ms).padStart(7)} ms ${String(f.pctOfBusy).padStart(5)} %  ${f.name}`);
  for (const t of s.workerProfiles ?? []) {
    console.log(`worker thread ${t.thread} (the sealing worker): ${t.busyMs} ms busy of ${t.totalMs} ms; by origin:`);
    for (const o of t.byOrigin.slice(0, 6)) console.log(`  ${String(o.ms).padStart(7)} ms ${String(o.pctOfBusy).padStart(5)} %  ${o.name}`);
    console.log('  top self time:');
    for (const f of t.topSelf.slice(0, 10)) console.log(`  ${String(f.ms).padStart(7)} ms ${String(f.pctOfBusy).padStart(5)} %  ${f.name}`);
  }
  const i = s.instrument;
  if (i) {
    console.log(`sqlite: ${i.sqlite.statements} statements (${i.sqlite.statementMs} ms), ${i.sqlite.prepares} prepares (${i.sqlite.prepareMs} ms), ${i.sqlite.transactions} explicit transactions, ${i.sqlite.autocommitWrites} autocommit writes`);
    for (const q of i.sqlite.top.slice(0, 8)) console.log(`  ${String(q.calls).padStart(6)} × ${String(q.ms).padStart(7)} ms (CPU ${String(q.cpuMs).padStart(6)} ms${q.autocommit ? `, ${q.autocommit} on their own` : ''})  ${q.source.slice(0, 100)}`);
    console.log(`crypto bytes: ${Object.entries(i.cryptoBytes).map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} MB`).join(', ')}`);
    console.log(`event loop: p50 ${i.eventLoop.p50Ms.toFixed(1)} ms, p99 ${i.eventLoop.p99Ms.toFixed(1)} ms, max ${i.eventLoop.maxMs.toFixed(1)} ms, ${i.eventLoop.stallsOver50ms} stalls > 50 ms (${i.eventLoop.stallMsTotal} ms)`);
  }
}
console.log(`\nwrote ${outDir}`);
