// Calendar navigation by delimiter listings: which years, months and days hold records, found by
// listing one level at a time under the date part of every key template (and of the day index),
// never by listing the objects themselves. `{yyyy}/{mm}/{dd}/` costs one listing per level.
import type { KeyLayout } from '../../../src-shared/keys.js';
import { calendarDate } from '../records/dates.js';
import type { ObjectStore, PrefixListing } from '../store/types.js';
import { INDEX_ROOT } from './entry.js';

type Level = 'yyyy' | 'mm' | 'dd';
/** A template's date part as characters: a literal, or a digit of one of the placeholders. */
type Cell = { literal: string } | { digit: Level };

const WIDTH: Record<Level, number> = { yyyy: 4, mm: 2, dd: 2 };
const PLACEHOLDER = /^\{(yyyy|mm|dd)\}$/;

function joinPrefix(prefix: string, rest: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${rest}` : rest;
}

/** The date parts (up to and including `{dd}`) of every template and of the index, without duplicates. */
export function datePatterns(layout: KeyLayout, prefix: string): string[] {
  const out = new Set<string>();
  for (const t of [...Object.values(layout) as string[], `${INDEX_ROOT}/{yyyy}/{mm}/{dd}/`]) {
    const full = joinPrefix(prefix, t);
    out.add(full.slice(0, full.indexOf('{dd}') + '{dd}'.length));
  }
  return [...out];
}

function cells(pattern: string, fixed: Partial<Record<Level, string>>): Cell[] {
  const out: Cell[] = [];
  for (const part of pattern.split(/(\{yyyy\}|\{mm\}|\{dd\})/)) {
    const m = PLACEHOLDER.exec(part);
    if (m) {
      const level = m[1] as Level;
      const known = fixed[level];
      for (let i = 0; i < WIDTH[level]; i++) out.push(known ? { literal: known[i]! } : { digit: level });
    } else {
      for (const c of part) out.push({ literal: c });
    }
  }
  return out;
}

/** Does `s` agree with the cells as far as both go? */
function fits(s: string, shape: Cell[]): boolean {
  const n = Math.min(s.length, shape.length);
  for (let i = 0; i < n; i++) {
    const c = shape[i]!;
    if ('literal' in c ? s[i] !== c.literal : s[i]! < '0' || s[i]! > '9') return false;
  }
  return true;
}

/** One-level listing: the store's own, or (a store without it) derived from a full listing. */
export async function listLevel(store: ObjectStore, prefix: string): Promise<PrefixListing> {
  if (store.listPrefixes) return store.listPrefixes(prefix, '/');
  const out: PrefixListing = { prefixes: [], objects: [] };
  const seen = new Set<string>();
  for await (const o of store.list(prefix)) {
    const slash = o.key.indexOf('/', prefix.length);
    if (slash < 0) out.objects.push(o);
    else {
      const p = o.key.slice(0, slash + 1);
      if (!seen.has(p)) { seen.add(p); out.prefixes.push(p); }
    }
  }
  return out;
}

/** The values of `want` under one date pattern, the earlier placeholders fixed. */
async function valuesOf(store: ObjectStore, pattern: string, fixed: Partial<Record<Level, string>>, want: Level): Promise<Set<string>> {
  const all = cells(pattern, fixed);
  let end = 0;
  all.forEach((c, i) => { if ('digit' in c && c.digit === want) end = i + 1; });
  const shape = all.slice(0, end);
  const start = shape.findIndex((c) => 'digit' in c);
  if (start < 0) return new Set();
  const literal = shape.slice(0, start).map((c) => (c as { literal: string }).literal).join('');
  const at = shape.findIndex((c) => 'digit' in c && c.digit === want);
  const out = new Set<string>();
  const walk = async (prefix: string): Promise<void> => {
    const level = await listLevel(store, prefix);
    const deeper: string[] = [];
    for (const name of [...level.prefixes, ...level.objects.map((o) => o.key)]) {
      if (!fits(name, shape)) continue;
      if (name.length >= shape.length) out.add(name.slice(at, at + WIDTH[want]));
      else if (name.endsWith('/')) deeper.push(name);
    }
    for (const p of deeper) await walk(p);
  };
  await walk(literal);
  return out;
}

/** `under`: none → years (YYYY); `YYYY` → its months (YYYY-MM); `YYYY-MM` → its days (YYYY-MM-DD). */
export async function calendarValues(store: ObjectStore, patterns: string[], under: string | null): Promise<string[]> {
  const ym = under ? /^(\d{4})(?:-(\d{2}))?$/.exec(under) : null;
  if (under && !ym) throw new Error(`"${under}" is not YYYY or YYYY-MM`);
  const fixed: Partial<Record<Level, string>> = ym ? { yyyy: ym[1]!, ...(ym[2] ? { mm: ym[2] } : {}) } : {};
  const want: Level = !ym ? 'yyyy' : ym[2] ? 'dd' : 'mm';
  const found = new Set<string>();
  const sets = await Promise.all(patterns.map((p) => valuesOf(store, p, fixed, want)));
  for (const set of sets) {
    for (const v of set) {
      const y = Number(fixed.yyyy ?? v);
      const m = want === 'yyyy' ? 1 : Number(fixed.mm ?? v);
      const d = want === 'dd' ? Number(v) : 1;
      if (!calendarDate(y, m, d)) continue;
      found.add(want === 'yyyy' ? v : want === 'mm' ? `${fixed.yyyy}-${v}` : `${fixed.yyyy}-${fixed.mm}-${v}`);
    }
  }
  return [...found].sort();
}
