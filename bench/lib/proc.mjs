// Child processes and CPU accounting: wall time of a child, its own CPU (medrelay-usage line,
// /usr/bin/time, or process.resourceUsage in our workers), the S3 server's CPU from /proc, and the
// whole machine's busy time from /proc/stat.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const TICK = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by these processes, all threads. */
export function cpuOfPids(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* gone */ }
  }
  return ticks / TICK;
}

/** Machine-wide CPU seconds: busy and total, summed over all cores. */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: (total - idle) / TICK, total: total / TICK };
}

/**
 * Runs a command to completion. Returns { code, signal, stdout, stderr, startedAt (epoch ms),
 * wallS }. `onStderrLine` sees stderr line by line as it arrives.
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!opts.onStderrLine) return;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const l of lines) opts.onStderrLine(l, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, startedAt, wallS: (performance.now() - t0) / 1000, pid: child.pid });
    });
    opts.onSpawn?.(child);
  });
}

/** The `medrelay-usage {...}` line the CLI prints with MEDRELAY_USAGE=1 (also used by our workers). */
export function parseUsage(stderr, tag = 'medrelay-usage') {
  const line = stderr.split('\n').reverse().find((l) => l.startsWith(`${tag} `));
  if (!line) return null;
  const u = JSON.parse(line.slice(tag.length + 1));
  return {
    cpuS: u.userCpuSeconds + u.systemCpuSeconds, userS: u.userCpuSeconds, sysS: u.systemCpuSeconds, maxRssBytes: u.maxRssBytes,
    mainCpuS: u.mainThreadCpuSeconds ?? null, mainBusyS: u.mainThreadBusySeconds ?? null,
    minorFaults: u.minorPageFaults ?? null, switches: u.voluntarySwitches != null ? u.voluntarySwitches + u.involuntarySwitches : null,
  };
}

/** Runs under /usr/bin/time for the child's CPU seconds and peak RSS. */
export async function runTimed(cmd, args, opts = {}) {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install -y time');
  const out = `${opts.tmpDir ?? '/tmp'}/time-${process.pid}-${Date.now()}.txt`;
  const r = await run('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...args], opts);
  const [e, u, s, m] = readFileSync(out, 'latin1').trim().split('\n').at(-1).split(' ').map(Number);
  rmSync(out, { force: true });
  return { ...r, usage: { cpuS: u + s, userS: u, sysS: s, maxRssBytes: m * 1024, timeWallS: e } };
}

/** Measures server CPU and machine CPU around `fn`. */
export async function measured(serverPids, fn) {
  const s0 = cpuOfPids(serverPids);
  const m0 = machineCpu();
  const result = await fn();
  const m1 = machineCpu();
  const serverCpuS = serverPids.length ? cpuOfPids(serverPids) - s0 : null;
  return { ...result, serverCpuS, machineBusyS: m1.busy - m0.busy, machineTotalS: m1.total - m0.total };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (up to `maxS`) for a second in which the machine is nearly idle (< `idlePct` % busy),
 * so that one run's leftovers (server garbage collection, write-back) do not land in the next.
 */
export async function waitQuiet({ idlePct = 15, maxS = 30 } = {}) {
  const t0 = Date.now();
  let pct = 100;
  while (Date.now() - t0 < maxS * 1000) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    pct = (100 * (b.busy - a.busy)) / Math.max(0.01, b.total - a.total);
    if (pct < idlePct) break;
  }
  return { waitedS: (Date.now() - t0) / 1000, busyPct: pct };
}
