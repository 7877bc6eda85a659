// Preloaded into the agent for profiling only (node --import bench/lib/instrument.mjs …): counts
// SQLite statements, prepares and transactions (better-sqlite3), bytes through each hash, HMAC and
// cipher, and event-loop stalls; prints one `bench-instrument {...}` line to stderr at exit.
// Adds overhead: never used for the figures of bench/run.mjs.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import crypto from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const require = createRequire(`${process.cwd()}/package.json`);
const t0 = performance.now();
const sql = new Map(); // source → { calls, ms, cpuMs, autocommit }
const stats = { prepares: 0, prepareMs: 0, transactions: 0, autocommitWrites: 0, statementMs: 0 };
const bytes = {}; // "hash:sha256" → bytes

/** This thread's CPU time in ms (user + system). */
function threadCpu() {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

const TX_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

function sqlEntry(source) {
  const text = source.replace(/\s+/g, ' ').trim();
  // Head and tail: statements that share a long column list differ only at their end.
  const key = text.length > 200 ? `${text.slice(0, 90)} … ${text.slice(-100)}` : text;
  let e = sql.get(key);
  if (!e) sql.set(key, (e = { calls: 0, ms: 0, cpuMs: 0, autocommit: 0 }));
  return e;
}

try {
  const Database = require('better-sqlite3');
  const prepare = Database.prototype.prepare;
  let patched = false;
  Database.prototype.prepare = function (source) {
    const t = performance.now();
    const st = prepare.call(this, source);
    stats.prepares++;
    stats.prepareMs += performance.now() - t;
    if (!patched) {
      patched = true;
      const proto = Object.getPrototypeOf(st);
      for (const m of ['run', 'get', 'all', 'iterate']) {
        const orig = proto[m];
        proto[m] = function (...args) {
          const s = performance.now();
          // The thread's own CPU as well as the wall time: with both cores busy, a statement's wall
          // time also counts the turns other threads and processes took meanwhile.
          const c = threadCpu();
          try {
            return orig.apply(this, args);
          } finally {
            const ms = performance.now() - s;
            const e = sqlEntry(this.source);
            e.calls++;
            e.ms += ms;
            e.cpuMs += threadCpu() - c;
            stats.statementMs += ms;
            // A write outside any transaction commits on its own (BEGIN itself runs outside one).
            if (m === 'run' && !this.database.inTransaction && !TX_CONTROL.test(this.source)) {
              stats.autocommitWrites++;
              e.autocommit++;
            }
          }
        };
      }
    }
    return st;
  };
  const transaction = Database.prototype.transaction;
  Database.prototype.transaction = function (fn) {
    const wrapped = transaction.call(this, fn);
    const counted = function (...args) {
      stats.transactions++;
      return wrapped.apply(this, args);
    };
    for (const k of ['deferred', 'immediate', 'exclusive']) counted[k] = wrapped[k];
    return counted;
  };
} catch (e) {
  process.stderr.write(`instrument: better-sqlite3 not patched: ${e.message}\n`);
}

function countBytes(kind, algo, obj) {
  const key = `${kind}:${String(algo).toLowerCase()}`;
  bytes[key] ??= 0;
  const add = (chunk) => { if (chunk && typeof chunk.length === 'number') bytes[key] += chunk.length; };
  const update = obj.update;
  obj.update = function (data, ...rest) { add(data); return update.call(this, data, ...rest); };
  const transform = obj._transform;
  if (transform) obj._transform = function (chunk, ...rest) { add(chunk); return transform.call(this, chunk, ...rest); };
  return obj;
}
for (const [name, kind] of [['createHash', 'hash'], ['createHmac', 'hmac'], ['createCipheriv', 'cipher']]) {
  const orig = crypto[name];
  crypto[name] = function (algo, ...rest) { return countBytes(kind, algo, orig.call(this, algo, ...rest)); };
}
syncBuiltinESMExports();

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const stalls = [];
let last = performance.now();
const sampler = setInterval(() => {
  const now = performance.now();
  const late = now - last - 20;
  if (late > 50) stalls.push({ atS: Math.round(now - t0) / 1000, ms: Math.round(late) });
  last = now;
}, 20);
sampler.unref();

process.on('exit', () => {
  h.disable();
  const top = [...sql.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)
    .map(([source, e]) => ({ source, calls: e.calls, ms: Math.round(e.ms * 10) / 10, cpuMs: Math.round(e.cpuMs * 10) / 10, autocommit: e.autocommit }));
  const statements = [...sql.values()].reduce((a, e) => a + e.calls, 0);
  const out = {
    runS: (performance.now() - t0) / 1000,
    sqlite: { ...stats, statements, prepareMs: Math.round(stats.prepareMs), statementMs: Math.round(stats.statementMs), top },
    cryptoBytes: bytes,
    eventLoop: {
      meanMs: h.mean / 1e6, p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6,
      stallsOver50ms: stalls.length, stallMsTotal: stalls.reduce((a, s) => a + s.ms, 0),
      worst: [...stalls].sort((a, b) => b.ms - a.ms).slice(0, 10),
    },
  };
  process.stderr.write(`bench-instrument ${JSON.stringify(out)}\n`);
});
