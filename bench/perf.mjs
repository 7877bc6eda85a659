// Where the CPU goes, thread by thread: one B (or A) run of the agent and one of the bare SDK, each
// under Linux perf (`perf record -a -g -e cpu-clock`, the agent with --perf-basic-prof so that its
// JavaScript has names), then every sample of each tool's busiest threads sorted into what it was
// doing. perf samples CPU time only, so a thread waiting in a system call (for a socket, the disk,
// another thread) is not counted, unlike V8's own profiler (bench/profile.mjs), whose samples are
// of wall time. Needs `perf` (Debian: apt-get install linux-perf) and, for its figures, a machine
// doing nothing else.
//   npm run build && node bench/perf.mjs [--workload B] [--keep] [--others N]
// --others N: the N commonest innermost frames of what no rule claims, per thread.
// A sample stands for 1/499 s of one thread; per record, samples × 2 ms ÷ records.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareEncryption } from './lib/agent.mjs';
import { runAgent, runSdk } from './lib/bulk.mjs';
import { waitQuiet } from './lib/proc.mjs';
import { openStore } from './lib/store.mjs';
import { FULL, generateA, generateB } from './lib/workloads.mjs';

const HZ = 499;

/** What a sample was doing: the first rule whose pattern its stack matches (innermost frame first). */
const RULES = [
  ['start-up (module loading)', /requireBuiltin|__require2|compileForInternalLoader|Module\._load/],
  ['encryption: data key, wrapping', /_onEncrypt|getEncryptionMaterials|_wrapKey|aesGcmWrapKey|NodeEncryptionMaterial|rawAesEncryptedDataKey|blockingRandomBytes/],
  ['encryption: header, key derivation', /getEncryptionInfo|serializeMessageHeader|nodeKdf|serializeEncryptionContext/],
  ['encryption: frame', /JS:\S*frame |getEncryptFrame|Cipheriv/],
  ['SQLite', /better_sqlite3|better-sqlite3|sqlite3|claimDue|enqueueNow|setState|recordCommits|nextRetryAt/],
  ['request signing', /JS:\S*sign |signRequest|getSigningKey|SignatureV4|signingKey/],
  ['reading files', /takeWholeSync|readFile|FSReqCallback|uv__fs_/],
  ['SHA-256', /crypto\/hash:132|sha256_block/],
  ['HTTP: writing requests', /writev|_flushOutput|_flush node|Socket\._write/],
  ['HTTP: request set-up', /ClientRequest|request node:http|addRequest|onSocketNT|tickOnSocket|_storeHeader/],
  ['HTTP: reading answers', /socketOnData|parserOnHeadersComplete|onStreamRead|Readable\.push|endReadableNT|parserOnIncoming/],
  ['copying into the shared slot', /JS:\S*copy node:buffer|_copyActual/],
  ['thread messages', /postMessage|messageport|event_target/],
  ['intake: listing, inspecting', /scanStable|queueReady|inspect/],
  ['verification', /Verifier|listPage|parseListPage|byListing/],
  ['job events, log', /publish|emit node:events/],
  ['garbage collection', /Scavenge|MarkCompact|Heap::|Sweeper/],
];

/** No JavaScript on the stack, in epoll: the thread going to sleep and waking up (uv_run is under every stack). */
const WAITING = /epoll_wait|epoll_pwait|uv__io_poll/;

/** Samples by thread id: each a list of frames, innermost first (perf script's layout). */
/** Samples of Node's threads (`node`, `libuv-worker`) by thread id: each a list of frames, innermost first. */
function samplesOf(dataFile) {
  const text = execFileSync('perf', ['script', '-i', dataFile, '-F', 'comm,tid,ip,sym'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const byTid = new Map();
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    const [comm, tid] = lines[0].trim().split(/\s+/);
    if (comm !== 'node' && comm !== 'libuv-worker') continue;
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''));
    if (!byTid.has(tid)) byTid.set(tid, []);
    byTid.get(tid).push(frames);
  }
  return byTid;
}

/** What a sample was doing: a rule's name, else 'other JavaScript', 'event loop (waiting, waking)' or 'other native'. */
function categoryOf(frames) {
  const stack = frames.join('\n');
  const rule = RULES.find(([, re]) => re.test(stack));
  if (rule) return rule[0];
  if (frames.some((f) => f.startsWith('JS:'))) return 'other JavaScript';
  return WAITING.test(stack) ? 'event loop (waiting, waking)' : 'other native';
}

/** Counts of `keyOf(frames)` over the samples it gives a key to (not null), most frequent first. */
function tally(samples, keyOf) {
  const counts = new Map();
  for (const frames of samples) {
    const key = keyOf(frames);
    if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function categorise(samples) {
  return tally(samples, categoryOf);
}

/** The innermost frames of the samples no rule claimed ('other …'), most frequent first: where to look next. */
function others(samples, n) {
  return tally(samples, (frames) => (categoryOf(frames).startsWith('other ')
    ? frames.slice(0, 2).map((f) => f.replace(/\+0x[0-9a-f]+/, '').replace(/\s*\(.*\)$/, '').slice(0, 70)).join(' < ')
    : null)).slice(0, n);
}

const { values } = parseArgs({ options: { workload: { type: 'string', default: 'B' }, keep: { type: 'boolean' }, others: { type: 'string', default: '0' } } });
const w = values.workload.toUpperCase();
try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('bench/perf.mjs needs Linux perf: apt-get install linux-perf');
}
const started = Date.now();
const tmp = mkdtempSync(join(tmpdir(), 'medrelay-perf-'));
const ctx = { tmp, seed: 1, runId: Date.now().toString(36), store: null, encryption: null };
try {
  ctx.encryption = await prepareEncryption(join(tmp, 'keys'));
  const data = (w === 'A' ? generateA : generateB)(join(tmp, 'data', w), FULL[w], 1);
  const records = data.files.length;
  for (const tool of ['agent', 'sdk']) {
    ctx.store = await openStore(tmp);
    await waitQuiet();
    const out = join(tmp, `${tool}.perf.data`);
    const perf = spawn('perf', ['record', '-F', String(HZ), '-a', '-g', '-e', 'cpu-clock', '-o', out], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    // The SDK's worker takes its flags from the environment (runSdk starts it without any).
    const options = process.env.NODE_OPTIONS;
    if (tool === 'sdk') process.env.NODE_OPTIONS = `${options ?? ''} --perf-basic-prof`.trim();
    const r = tool === 'agent'
      ? await runAgent(ctx, w, data, 1, { windowMs: 200, nodeArgs: ['--perf-basic-prof'] })
      : await runSdk(ctx, w, data, 1).finally(() => { if (options === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = options; });
    perf.kill('SIGINT');
    await new Promise((res) => perf.on('exit', res));
    await ctx.store.stop();
    console.log(`\n=== ${tool} on ${w}: ${r.filesPerS.toFixed(1)} files/s, client ${(r.cpuS * 1000 / records).toFixed(2)} ms of CPU a record`);
    const byTid = samplesOf(out);
    // The tool's threads are the busiest of Node's (this script's own are idle while it waits); the
    // busiest two (the agent's main thread and sealing worker) are shown in full.
    const threads = [...byTid].sort((a, b) => b[1].length - a[1].length);
    for (const [tid, samples] of threads.slice(0, 6)) {
      console.log(`thread ${tid}: ${samples.length} samples, ${(samples.length * 1e6 / HZ / records).toFixed(0)} µs a record`);
    }
    for (const [tid, samples] of threads.slice(0, 2)) {
      console.log(`thread ${tid}, by what it was doing (µs a record):`);
      for (const [name, n] of categorise(samples)) console.log(`  ${String(Math.round(n * 1e6 / HZ / records)).padStart(6)}  ${name}`);
      const top = Number(values.others);
      if (top > 0) {
        console.log(`  of 'other', by innermost frames:`);
        for (const [name, n] of others(samples, top)) console.log(`  ${String(Math.round(n * 1e6 / HZ / records)).padStart(6)}  ${name}`);
      }
    }
  }
} finally {
  await ctx.store?.stop();
  // --perf-basic-prof writes /tmp/perf-<pid>.map, and V8's isolate-…-v8.log into the working
  // folder; they are only of use with the data.
  for (const [dir, re] of [['/tmp', /^perf-\d+\.map$/], [process.cwd(), /^isolate-0x[0-9a-f]+-\d+-v8\.log$/]]) {
    for (const f of readdirSync(dir)) if (re.test(f) && statSync(join(dir, f)).mtimeMs >= started) rmSync(join(dir, f), { force: true });
  }
  if (values.keep) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
