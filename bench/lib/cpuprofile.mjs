// Summarises a V8 .cpuprofile: self time per function and per origin (our code, AWS SDK,
// Encryption SDK, SQLite binding, Node internals, GC, idle).
import { readFileSync } from 'node:fs';

function origin(url, name) {
  if (name === '(garbage collector)') return 'gc';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (native, unattributed)';
  if (!url) return 'native/builtin';
  if (url.startsWith('node:')) return 'node internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/src-main/')) return 'medrelay';
  return 'other';
}

export function summarize(file, top = 25) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const cf = n.callFrame;
    const where = cf.url ? `${cf.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${cf.lineNumber + 1}` : '';
    return `${cf.functionName || '(anonymous)'} ${where}`.trim();
  };
  const fns = new Map();
  const inclusive = new Map();
  const origins = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const key = keyOf(n);
    fns.set(key, (fns.get(key) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
    const o = origin(cf.url, cf.functionName);
    origins.set(o, (origins.get(o) ?? 0) + us);
    total += us;
  }
  const busy = total - (origins.get('idle') ?? 0);
  const list = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, ms: Math.round(us / 1000), pctOfBusy: Math.round((1000 * us) / busy) / 10 }));
  const skip = (f) => !/^\((idle|root|program|garbage collector)\)/.test(f.name);
  return {
    totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), byOrigin: list(origins),
    topSelf: list(fns).filter(skip).slice(0, top),
    topInclusive: list(inclusive).filter(skip).filter((f) => f.name.includes('dist/src-main/')).slice(0, top),
  };
}
