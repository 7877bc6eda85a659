// Workloads A and B: the same files uploaded by the agent (--once), the bare SDK, rclone and
// rclone crypt, each into a fresh bucket, each measured end to end (process spawn to exit).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentEnv, agentOnce, writeConfig } from './agent.mjs';
import { phases } from './db.mjs';
import { measured, parseUsage, run } from './proc.mjs';
import { rcloneCopy } from './rclone.mjs';
import { freshBucket } from './store.mjs';

const SDK_WORKER = fileURLToPath(new URL('./sdk-worker.mjs', import.meta.url));
export const PART_SIZE = 16 * 1024 * 1024; // the agent's default store.partSizeBytes
export const PARTS_IN_FLIGHT = 2; // the agent's default store.partsInFlight
export const CONCURRENCY = 4; // the agent's default queue.concurrency
const SSE_ONLY = { enabled: true, section: { mode: 'sse-only' } };

function figures(base, data, wallS, usage) {
  const gb = data.bytes / 1e9;
  return {
    ...base, files: data.files.length, bytes: data.bytes, wallS,
    mbPerS: data.bytes / 1e6 / wallS, filesPerS: data.files.length / wallS,
    cpuS: usage?.cpuS ?? null, cpuSPerGB: usage ? usage.cpuS / gb : null, maxRssMB: usage ? usage.maxRssBytes / 1e6 : null,
    // The agent's main thread (HTTP, SQLite, intake): busy % of the wall time, and its own CPU.
    mainBusyPct: usage?.mainBusyS != null ? (100 * usage.mainBusyS) / wallS : null,
    mainCpuSPerGB: usage?.mainCpuS != null ? usage.mainCpuS / gb : null,
    // Page faults and context switches per file: each costs the kernel time that CPU-s/GB counts.
    faultsPerFile: usage?.minorFaults != null ? usage.minorFaults / data.files.length : null,
    switchesPerFile: usage?.switches != null ? usage.switches / data.files.length : null,
  };
}

/**
 * The server's CPU per GB, how busy the whole machine was, and how much of it was neither the
 * tool nor the server ("other": another program, or kernel work not charged to either).
 */
function serverFigures(r, data, toolCpuS) {
  const gb = data.bytes / 1e9;
  const pct = (x) => (r.machineTotalS > 0 && x !== null ? (100 * x) / r.machineTotalS : null);
  return {
    serverCpuSPerGB: r.serverCpuS === null ? null : r.serverCpuS / gb,
    machineBusyPct: pct(r.machineBusyS),
    otherPct: r.serverCpuS === null || toolCpuS === null ? null : pct(Math.max(0, r.machineBusyS - r.serverCpuS - toolCpuS)),
  };
}

/**
 * One `agent --once` pass over `data.dir`. `plain`: without client-side encryption
 * (`encryption.mode` "sse-only"), to show what encryption costs (bench --extra). `cli`: another
 * build of the command (a copy of dist/medrelay.mjs), to compare two builds run by run.
 */
export async function runAgent(ctx, workload, data, rep, { windowMs, nodeArgs = [], label = 'agent', plain = false, cli } = {}) {
  const bucket = await freshBucket(ctx.store, `${workload}-${label}`, ctx.runId);
  // A fresh folder (queue database) for every run, redos included: nothing may be known already.
  ctx.runCount = (ctx.runCount ?? 0) + 1;
  const dir = join(ctx.tmp, 'runs', `${workload}-${label}-${rep}-${ctx.runCount}`);
  const cfg = writeConfig(dir, {
    store: ctx.store, bucket, encryption: plain ? SSE_ONLY : ctx.encryption, windowMs, concurrency: CONCURRENCY,
    watch: [{ path: data.dir, kind: workload === 'A' ? 'dicom' : 'ecg' }],
  });
  const r = await measured(ctx.store.serverPids, () => agentOnce(cfg.file, agentEnv(ctx.store), { nodeArgs, db: cfg.db, timeoutMs: ctx.runTimeoutMs, ...(cli ? { cli } : {}) }));
  const p = phases(cfg.db);
  if (p.done !== data.files.length || p.jobs !== data.files.length || p.firstQueued < r.startedAt) {
    throw new Error(`agent delivered ${p.done} of ${data.files.length} files on ${workload} (${p.jobs} jobs in its queue)`);
  }
  const at = (t) => (t - r.startedAt) / 1000;
  const split = {
    startToFirstQueuedS: at(p.firstQueued),
    intakeS: (p.lastQueued - p.firstQueued) / 1000,
    uploadS: (p.lastUploaded - p.lastQueued) / 1000,
    exitS: r.wallS - at(p.lastUploaded),
    uploadPhaseMBPerS: data.bytes / 1e6 / ((p.lastUploaded - p.lastQueued) / 1000),
  };
  return { ...figures({ tool: label, workload, rep }, data, r.wallS, r.usage), ...serverFigures(r, data, r.usage?.cpuS ?? null), split, ...(nodeArgs.length ? { stderr: r.stderr } : {}) };
}

/** The bare SDK ceiling on the same files. */
export async function runSdk(ctx, workload, data, rep, { unsignedPayload = false } = {}) {
  const tool = unsignedPayload ? 'sdk-unsigned' : 'sdk';
  const bucket = await freshBucket(ctx.store, `${workload}-${tool}`, ctx.runId);
  const args = {
    endpoint: ctx.store.endpoint, region: ctx.store.region, accessKeyId: ctx.store.accessKeyId,
    secretAccessKey: ctx.store.secretAccessKey, bucket, dir: data.dir, prefix: `sdk-${rep}`,
    mode: workload === 'A' ? 'multipart' : 'put', concurrency: CONCURRENCY, partSize: PART_SIZE, queueSize: PARTS_IN_FLIGHT,
    unsignedPayload,
  };
  const r = await measured(ctx.store.serverPids, () => run(process.execPath, [SDK_WORKER, JSON.stringify(args)]));
  if (r.code !== 0) throw new Error(`bare SDK upload failed (${r.code}): ${r.stderr.slice(-3000)}`);
  const inner = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('bench-sdk ')).slice(10));
  const usage = parseUsage(r.stderr);
  return { ...figures({ tool, workload, rep }, data, r.wallS, usage), ...serverFigures(r, data, usage?.cpuS ?? null), split: { uploadS: inner.uploadS } };
}

/** rclone copy, plain ('s3') or encrypting ('crypt'). */
export async function runRclone(ctx, workload, data, rep, remote) {
  const tool = remote === 'crypt' ? 'rclone-crypt' : 'rclone';
  const bucket = await freshBucket(ctx.store, `${workload}-${tool}`, ctx.runId);
  const r = await measured(ctx.store.serverPids, () => rcloneCopy(ctx.rcloneConf, remote, data.dir, bucket, `${tool}-${rep}`, ctx.tmp));
  return { ...figures({ tool, workload, rep }, data, r.wallS, r.usage), ...serverFigures(r, data, r.usage.cpuS) };
}
