// Aggregates the runs (median over repetitions), computes the ratios the issue asks for, checks
// the targets, and prints the table.
import { median, round } from './stats.mjs';

const TOOLS = ['agent', 'sdk', 'rclone', 'rclone-crypt', 'agent-plain', 'sdk-unsigned'];
const METRICS = ['wallS', 'mbPerS', 'filesPerS', 'cpuSPerGB', 'maxRssMB', 'serverCpuSPerGB', 'machineBusyPct', 'otherPct', 'mainBusyPct', 'mainCpuSPerGB'];

export function aggregate(runs) {
  const out = {};
  for (const w of ['A', 'B']) {
    for (const tool of TOOLS) {
      const all = runs.filter((r) => r.workload === w && r.tool === tool && !r.error && !r.discarded);
      if (!all.length) continue;
      // Runs another program disturbed count only when there is nothing better.
      const clean = all.filter((r) => !r.disturbed);
      const rs = clean.length ? clean : all;
      const agg = { reps: rs.length, disturbedOnly: !clean.length };
      for (const m of METRICS) agg[m] = median(rs.map((r) => r[m]));
      agg.maxRssMBMax = Math.max(...rs.map((r) => r.maxRssMB ?? 0));
      if (rs[0].split) {
        agg.split = {};
        for (const k of Object.keys(rs[0].split)) agg.split[k] = median(rs.map((r) => r.split?.[k]));
      }
      (out[w] ??= {})[tool] = agg;
    }
  }
  return out;
}

function ratio(a, b) {
  return a === null || a === undefined || !b ? null : a / b;
}

/** `tool`'s MB/s, files/s and CPU-s/GB, each divided by those of every one of `others` that ran. */
function versus(runs, tool, others, name) {
  const out = {};
  for (const other of others) {
    const o = runs[other];
    if (!o) continue;
    out[name(other)] = { mbPerS: ratio(tool.mbPerS, o.mbPerS), filesPerS: ratio(tool.filesPerS, o.filesPerS), cpuSPerGB: ratio(tool.cpuSPerGB, o.cpuSPerGB) };
  }
  return out;
}

/** Ratios of the agent against the bare SDK and rclone crypt (and plain rclone, for reference). */
export function ratios(agg) {
  const out = {};
  for (const w of ['A', 'B']) {
    const a = agg[w]?.agent;
    if (!a) continue;
    out[w] = versus(agg[w], a, ['sdk', 'rclone-crypt', 'rclone'], (other) => `vs ${other}`);
    // --extra: the agent without client-side encryption, against the same peers and against the
    // encrypted agent (what encryption costs). Reported, not a target.
    const plain = agg[w]['agent-plain'];
    if (plain) out[w].experiments = versus(agg[w], plain, ['sdk', 'rclone-crypt', 'agent'], (other) => `agent-plain vs ${other}`);
  }
  return out;
}

export function targets(agg, rat, trickle, restart) {
  const t = [];
  const shaky = (w, ...tools) => tools.some((tool) => agg[w]?.[tool]?.disturbedOnly);
  const add = (id, what, value, limit, op, unreliable = false) => {
    const check = { '>=': (v) => v >= limit, '<=': (v) => v <= limit, '<': (v) => v < limit }[op];
    const met = value === null || value === undefined ? null : check(value);
    t.push({ id, what, value, target: `${op} ${limit}`, met, unreliable });
  };
  if (rat.A) {
    add('A-mbps-vs-crypt', 'A: agent MB/s ÷ rclone crypt MB/s', rat.A['vs rclone-crypt']?.mbPerS ?? null, 1.1, '>=', shaky('A', 'agent', 'rclone-crypt'));
    add('A-mbps-vs-sdk', 'A: agent MB/s ÷ bare SDK MB/s', rat.A['vs sdk']?.mbPerS ?? null, 0.9, '>=', shaky('A', 'agent', 'sdk'));
    add('A-cpu-vs-crypt', 'A: agent CPU-s/GB ÷ rclone crypt CPU-s/GB', rat.A['vs rclone-crypt']?.cpuSPerGB ?? null, 0.8, '<=', shaky('A', 'agent', 'rclone-crypt'));
  }
  if (agg.A?.agent) add('A-rss', 'A: agent peak RSS, MB (worst rep)', agg.A.agent.maxRssMBMax, 200, '<');
  if (rat.B) {
    add('B-files-vs-crypt', 'B: agent files/s ÷ rclone crypt files/s', rat.B['vs rclone-crypt']?.filesPerS ?? null, 1.15, '>=', shaky('B', 'agent', 'rclone-crypt'));
    add('B-files-vs-sdk', 'B: agent files/s ÷ bare SDK files/s', rat.B['vs sdk']?.filesPerS ?? null, 0.9, '>=', shaky('B', 'agent', 'sdk'));
  }
  if (trickle && !trickle.error) add('C-p95', 'C: p95 close→committed, s (500 ms window)', trickle.latencyS.p95, 1.5, '<');
  if (restart && !restart.error) add('R-first-upload', `R: restart → first upload, s (${restart.queuedJobs} queued, median)`, restart.firstDoneS, 2, '<');
  return t;
}

const HOLD_S = 4;
const f = (x, d = 2) => (x === null || x === undefined ? '—' : round(x, d).toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

export function table(result) {
  const lines = [];
  const { agg, ratios: rat, trickle, restart, targets: tg } = result;
  lines.push(`MedRelay bench ${result.startedAt}  (${result.mode}, ${result.reps} rep(s), store ${result.store.kind})`);
  lines.push(`build: commit ${result.versions.commit}${result.versions.uncommittedFiles ? ` + ${result.versions.uncommittedFiles} uncommitted file(s)` : ''}, node ${result.versions.node}, ${result.versions.rclone ?? 'no rclone'}`);
  lines.push(`agent: ${result.encryption.why}`);
  lines.push(`agent --once stability window: ${result.settings.onceWindowMs} ms; concurrency 4; part ${result.settings.partSizeMiB} MiB × ${result.settings.partsInFlight} in flight`);
  lines.push('MB = 10^6 bytes, GB = 10^9 bytes; wall = process spawn to exit; medians over reps; CPU-s/GB = the tool\'s own user+sys CPU;');
  lines.push('srv = RGW+OSD+mon CPU; machine % = all CPUs busy; other % = busy but neither tool nor server (another program or kernel)');
  for (const w of ['A', 'B']) {
    if (!agg[w]) continue;
    const spec = result.workloads[w];
    lines.push('');
    lines.push(`Workload ${w}: ${spec.files} files × ${spec.bytes / 1e6} MB${spec.folders ? ` in ${spec.folders} folders` : ''}`);
    lines.push(`  ${pad('tool', 14)}${lpad('reps', 5)}${lpad('wall s', 8)}${lpad('MB/s', 9)}${lpad('files/s', 9)}${lpad('CPU-s/GB', 10)}${lpad('RSS MB', 8)}${lpad('srv CPU-s/GB', 14)}${lpad('machine %', 11)}${lpad('other %', 9)}`);
    for (const tool of TOOLS) {
      const a = agg[w][tool];
      if (!a) continue;
      lines.push(`  ${pad(tool, 14)}${lpad(`${a.reps}${a.disturbedOnly ? '!' : ''}`, 5)}${lpad(f(a.wallS), 8)}${lpad(f(a.mbPerS, 1), 9)}${lpad(f(a.filesPerS, 1), 9)}${lpad(f(a.cpuSPerGB), 10)}${lpad(f(a.maxRssMB, 0), 8)}${lpad(f(a.serverCpuSPerGB), 14)}${lpad(f(a.machineBusyPct, 0), 11)}${lpad(f(a.otherPct, 0), 9)}`);
    }
    const s = agg[w].agent?.split;
    if (s) {
      lines.push(`  agent split: spawn→first queued ${f(s.startToFirstQueuedS)} s (start-up, listing, ${result.settings.onceWindowMs} ms window, first intake), intake (inspect+hash+enqueue) ${f(s.intakeS)} s, upload ${f(s.uploadS)} s (${f(s.uploadPhaseMBPerS, 1)} MB/s), exit ${f(s.exitS)} s`);
    }
    const ag = agg[w].agent;
    if (ag?.mainBusyPct != null) {
      lines.push(`  agent main thread: busy ${f(ag.mainBusyPct, 0)} % of the wall time, ${f(ag.mainCpuSPerGB)} of its ${f(ag.cpuSPerGB)} CPU-s/GB (the rest: the sealing worker, V8's and libuv's threads)`);
    }
    const { experiments, ...vs } = rat[w] ?? {};
    for (const [k, r] of Object.entries(vs)) {
      lines.push(`  agent ${k}: MB/s ×${f(r.mbPerS)}, files/s ×${f(r.filesPerS)}, CPU-s/GB ×${f(r.cpuSPerGB)}`);
    }
    for (const [k, r] of Object.entries(experiments ?? {})) {
      lines.push(`  (experiment) ${k}: MB/s ×${f(r.mbPerS)}, files/s ×${f(r.filesPerS)}, CPU-s/GB ×${f(r.cpuSPerGB)}`);
    }
  }
  if (trickle) {
    lines.push('');
    if (trickle.error) lines.push(`Workload C: ERROR ${trickle.error}`);
    else lines.push(`Workload C: ${trickle.files} files × ${trickle.fileBytes / 1e3} kB, pause ${trickle.pauseMs.join('–')} ms, window ${trickle.windowMs} ms: latency close→committed p50 ${f(trickle.latencyS.p50, 3)} s, p95 ${f(trickle.latencyS.p95, 3)} s, max ${f(trickle.latencyS.max, 3)} s; agent CPU ${f(trickle.cpuS)} s, RSS ${f(trickle.maxRssMB, 0)} MB`);
  }
  if (restart) {
    lines.push('');
    if (restart.error) lines.push(`Workload R: ERROR ${restart.error}`);
    else lines.push(`Workload R: ${restart.queuedJobs} queued jobs: spawn → first job done ${restart.runs.map((r) => f(r.firstDoneS, 3)).join(', ')} s (median ${f(restart.firstDoneS, 3)}); "watching" at ${restart.runs.map((r) => f(r.watchingS, 3)).join(', ')} s; bare CLI start (--help) ${f(restart.cliHelpStartS, 3)} s`);
    lines.push(`  then drains ${f(restart.backlogFilesPerS, 1)} files/s (20 kB files, ${HOLD_S} s after the first delivery, median) with the backlog in the queue`);
  }
  lines.push('');
  lines.push('Targets:');
  for (const t of tg) lines.push(`  ${t.met === null ? 'n/a    ' : t.met ? 'met    ' : 'NOT MET'}  ${pad(t.what, 58)} ${lpad(f(t.value, 3), 8)}  (target ${t.target})${t.unreliable ? '  unreliable: disturbed runs only' : ''}`);
  if (!result.encryption.enabled) lines.push('  (the agent ran without encryption: the targets are defined for the encrypted agent)');
  const disturbed = result.runs.filter((r) => r.disturbed && !r.discarded);
  if (disturbed.length) lines.push(`  ${disturbed.length} run(s) disturbed by other programs (left out of the medians when a clean rep exists): ${disturbed.map((r) => `${r.workload} ${r.tool} rep ${r.rep}`).join(', ')}`);
  const dirtyOnly = ['A', 'B'].flatMap((w) => Object.entries(agg[w] ?? {}).filter(([, a]) => a.disturbedOnly).map(([t]) => `${w} ${t}`));
  if (dirtyOnly.length) lines.push(`  WARNING: only disturbed runs for ${dirtyOnly.join(', ')}: those figures are unreliable; rerun on a quiet machine`);
  const errors = result.runs.filter((r) => r.error);
  for (const e of errors) lines.push(`ERROR ${e.workload} ${e.tool} rep ${e.rep}: ${e.error}`);
  return lines.join('\n');
}
