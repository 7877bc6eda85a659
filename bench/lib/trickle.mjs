// Workload C: a running agent (stability window 500 ms) watches a folder while files are written
// one by one with a pause between them. Latency = the job's uploaded_at minus the moment the
// writer closed the file (same clock: both processes read the system clock).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { agentEnv, startAgent, writeConfig } from './agent.mjs';
import { uploadedAtByPath, withDb } from './db.mjs';
import { measured, sleep } from './proc.mjs';
import { mulberry32 } from './prng.mjs';
import { median, percentile } from './stats.mjs';
import { freshBucket } from './store.mjs';
import { trickleFiles } from './workloads.mjs';

export const TRICKLE_WINDOW_MS = 500;

export async function runTrickle(ctx, spec) {
  const files = trickleFiles(spec, ctx.seed);
  const random = mulberry32(ctx.seed ^ 0xc0ffee);
  const dir = join(ctx.tmp, 'runs', 'C');
  const inbox = join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  const bucket = await freshBucket(ctx.store, 'C-agent', ctx.runId);
  const cfg = writeConfig(dir, {
    store: ctx.store, bucket, encryption: ctx.encryption, windowMs: TRICKLE_WINDOW_MS, incompleteAfterMs: 60_000,
    watch: [{ path: inbox, kind: 'ecg' }],
  });
  const agent = startAgent(cfg.file, agentEnv(ctx.store));
  const r = await measured(ctx.store.serverPids, async () => {
    const readyAt = await agent.ready;
    if (readyAt === null) throw new Error(`agent exited before watching:\n${agent.log().slice(-3000)}`);
    const closed = new Map();
    const [lo, hi] = spec.pauseMs;
    for (const f of files) {
      const path = join(inbox, f.name);
      const fd = openSync(path, 'wx');
      writeSync(fd, f.content);
      closeSync(fd);
      closed.set(path, Date.now());
      await sleep(lo + random() * (hi - lo));
    }
    const deadline = Date.now() + 60_000;
    let done = 0;
    while (Date.now() < deadline) {
      done = withDb(cfg.db, (db) => db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'done'`).get().n);
      if (done >= files.length) break;
      await sleep(200);
    }
    return { closed, done, readyS: (readyAt - agent.startedAt) / 1000 };
  }).finally(async () => { await agent.stop(); });
  const stopped = await agent.stop();
  if (r.done < files.length) throw new Error(`trickle: only ${r.done} of ${files.length} files delivered within 60 s`);
  const uploaded = uploadedAtByPath(cfg.db);
  const latencies = [...r.closed].map(([p, t]) => (uploaded.get(p) - t) / 1000);
  return {
    workload: 'C', tool: 'agent', files: files.length, fileBytes: spec.bytes, windowMs: TRICKLE_WINDOW_MS,
    pauseMs: spec.pauseMs, agentReadyS: r.readyS,
    latencyS: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies), min: Math.min(...latencies), mean: latencies.reduce((a, b) => a + b, 0) / latencies.length, median: median(latencies) },
    cpuS: stopped.usage?.cpuS ?? null, maxRssMB: stopped.usage ? stopped.usage.maxRssBytes / 1e6 : null,
    serverCpuS: r.serverCpuS,
  };
}
