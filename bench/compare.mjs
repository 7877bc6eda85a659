// Compares builds of the command run by run on one workload: each repetition runs every build (and
// the bare SDK) in rotating order, each into a fresh RGW, and prints files/s, CPU and the main
// thread's busy share. The machine drifts ±20 % between runs: run it again with the builds in the
// other order before believing a difference of less than about 10 % (bench/README.md).
// A build is the three files of dist/ (medrelay.mjs, medrelay-cli.mjs, seal-worker.mjs) copied to a
// folder under dist/, so that its packages still resolve from node_modules:
//   npm run build && mkdir -p dist/cmp/before && cp dist/medrelay*.mjs dist/seal-worker.mjs dist/cmp/before/
//   <change> && npm run build
//   node bench/compare.mjs --workload B --reps 6 dist/cmp/before/medrelay.mjs dist/medrelay.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareEncryption } from './lib/agent.mjs';
import { runAgent, runSdk } from './lib/bulk.mjs';
import { waitQuiet } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';
import { openStore } from './lib/store.mjs';
import { FULL, generateA, generateB } from './lib/workloads.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workload: { type: 'string', default: 'B' }, reps: { type: 'string', default: '4' }, 'no-sdk': { type: 'boolean' }, seed: { type: 'string', default: '1' } },
});
if (!positionals.length) throw new Error('usage: node bench/compare.mjs [--workload A|B] [--reps N] [--no-sdk] BUILD.mjs...');
const w = values.workload.toUpperCase();
const builds = positionals.map((p) => resolve(p));
const tools = [...builds.map((cli, i) => ({ name: `build ${i + 1}`, cli })), ...(values['no-sdk'] ? [] : [{ name: 'sdk', cli: null }])];
const tmp = mkdtempSync(join(tmpdir(), 'medrelay-compare-'));
const ctx = { tmp, seed: Number(values.seed), runId: Date.now().toString(36), store: null, encryption: null, runTimeoutMs: 120_000 };
const rows = new Map(tools.map((t) => [t.name, []]));
const f = (x, d = 2) => (x == null ? '-' : x.toFixed(d));
try {
  ctx.encryption = await prepareEncryption(join(tmp, 'keys'));
  const data = (w === 'A' ? generateA : generateB)(join(tmp, 'data', w), FULL[w], ctx.seed);
  execFileSync('sync');
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (let i = 0; i < tools.length; i++) {
      const t = tools[(i + rep - 1) % tools.length];
      await ctx.store?.stop();
      ctx.store = await openStore(tmp);
      // As bench/run.mjs: the last run's store may still be going away.
      await waitQuiet({ maxS: 15 });
      const r = t.cli ? await runAgent(ctx, w, data, rep, { windowMs: 200, cli: t.cli, label: t.name.replace(' ', '-') }) : await runSdk(ctx, w, data, rep);
      rows.get(t.name).push(r);
      console.log(`${w} rep ${rep} ${t.name.padEnd(8)} ${f(r.wallS)} s  ${f(r.filesPerS, 1)} files/s  ${f(r.mbPerS, 1)} MB/s  ${f(r.cpuSPerGB)} CPU-s/GB  srv ${f(r.serverCpuSPerGB)}  main busy ${f(r.mainBusyPct, 0)} %  main ${f(r.mainCpuSPerGB)} CPU-s/GB`);
    }
  }
  console.log(`\nmedians (${w}, ${values.reps} reps): ${builds.map((b, i) => `build ${i + 1} = ${b}`).join(', ')}`);
  for (const [name, rs] of rows) {
    const m = (k) => median(rs.map((r) => r[k]).filter((x) => x != null));
    console.log(`  ${name.padEnd(8)} files/s ${f(m('filesPerS'), 1)}  MB/s ${f(m('mbPerS'), 1)}  CPU-s/GB ${f(m('cpuSPerGB'))}  srv ${f(m('serverCpuSPerGB'))}  main busy ${f(m('mainBusyPct'), 0)} %  main ${f(m('mainCpuSPerGB'))} CPU-s/GB`);
  }
} finally {
  await ctx.store?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
