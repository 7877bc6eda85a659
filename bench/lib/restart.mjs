// Workload R: a queue of many queued jobs (an agent that was offline for a long time); the time
// from spawning `medrelay agent --config` to the first job reaching 'done', read from the database.
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentEnv, agentOnce, CLI, startAgent, writeConfig } from './agent.mjs';
import { fillQueue, withDb } from './db.mjs';
import { run } from './proc.mjs';
import { byteStream } from './prng.mjs';
import { paddedPdf } from './pdf.mjs';
import { median } from './stats.mjs';
import { freshBucket } from './store.mjs';
import { ecgName } from './workloads.mjs';

/** How long each restarted agent keeps running after its first delivery (drain rate). */
const HOLD_MS = 4000;

export async function runRestart(ctx, spec, reps, { nodeArgs = [] } = {}) {
  const dir = join(ctx.tmp, 'runs', 'R');
  const inbox = join(dir, 'inbox');
  const src = join(dir, 'src');
  mkdirSync(inbox, { recursive: true });
  mkdirSync(src, { recursive: true });
  const bucket = await freshBucket(ctx.store, 'R-agent', ctx.runId);
  const cfg = writeConfig(dir, {
    store: ctx.store, bucket, encryption: ctx.encryption, windowMs: 500, incompleteAfterMs: 60_000,
    watch: [{ path: inbox, kind: 'ecg' }],
  });
  const env = agentEnv(ctx.store);
  // An empty pass creates the database and its schema; then the queue is filled behind its back.
  await agentOnce(cfg.file, env);
  const file = join(src, ecgName('20250303', 0));
  const content = paddedPdf('Bench restart', 20_000, (n) => byteStream(ctx.seed, 'R').next(n));
  writeFileSync(file, content);
  const st = statSync(file);
  const t = Date.now();
  fillQueue(cfg.db, spec.jobs, {
    sourcePath: file, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), sha256: createHash('sha256').update(content).digest('hex'),
    keyPrefix: 'restart', createdAt: t - spec.jobs - 1000,
  });
  const help = await run(process.execPath, [CLI, '--help']);
  const runs = [];
  for (let rep = 1; rep <= reps; rep++) {
    let firstDelivered;
    const seen = new Promise((r) => { firstDelivered = r; });
    const agent = startAgent(cfg.file, env, { nodeArgs, onLine: (l, at) => { if (/ info delivered /.test(l)) firstDelivered(at); } });
    void agent.exited.then(() => firstDelivered(null));
    const timeout = setTimeout(() => firstDelivered(null), 60_000);
    const sawAt = await seen;
    clearTimeout(timeout);
    // Keep it running a little: how fast does it drain with a backlog this size?
    if (sawAt !== null) await new Promise((r) => setTimeout(r, HOLD_MS));
    const readyAt = await Promise.race([agent.ready, Promise.resolve(null)]);
    const stopped = await agent.stop();
    if (sawAt === null) throw new Error(`restart: no job delivered within 60 s:\n${agent.log().slice(-3000)}`);
    const firstDone = withDb(cfg.db, (db) => db.prepare(`SELECT MIN(uploaded_at) AS t FROM jobs WHERE state = 'done' AND uploaded_at >= ?`).get(agent.startedAt).t);
    const drained = withDb(cfg.db, (db) => db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'done' AND uploaded_at >= ? AND uploaded_at < ?`).get(firstDone, firstDone + HOLD_MS).n);
    runs.push({
      rep, firstDoneS: (firstDone - agent.startedAt) / 1000, logLineS: (sawAt - agent.startedAt) / 1000,
      backlogFilesPerS: drained / (HOLD_MS / 1000),
      watchingS: readyAt ? (readyAt - agent.startedAt) / 1000 : null, cpuS: stopped.usage?.cpuS ?? null,
      maxRssMB: stopped.usage ? stopped.usage.maxRssBytes / 1e6 : null,
      ...(nodeArgs.length ? { stderr: agent.log() } : {}),
    });
  }
  const left = withDb(cfg.db, (db) => db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`).get().n);
  return {
    workload: 'R', tool: 'agent', queuedJobs: spec.jobs, queuedAfter: left, cliHelpStartS: help.wallS,
    runs, firstDoneS: median(runs.map((r) => r.firstDoneS)), firstDoneMaxS: Math.max(...runs.map((r) => r.firstDoneS)),
    backlogFilesPerS: median(runs.map((r) => r.backlogFilesPerS)), fileBytes: 20_000,
  };
}
