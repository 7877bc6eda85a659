// Browsing commands: list (a day or a range, with filters), days (the calendar), share (a link
// that expires) and open-share (the recipient's side). They parse their own options.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CatalogRecord, SearchResult } from '../../src-shared/api.js';
import { RECORD_KINDS, type RecordKind } from '../../src-shared/keys.js';
import { openShare } from '../core/catalog/share.js';
import { need, out, readSecret, UsageError, withAgent, type Flags } from './common.js';

export interface BrowseFlags extends Flags {
  from?: string; to?: string; patient?: string; kind?: string; modality?: string; month?: string; year?: string;
  expires?: string; url?: string; offline?: boolean; grouped?: boolean; limit?: string;
}

export const BROWSE_COMMANDS = new Set(['list', 'days', 'share', 'open-share']);

export function parseBrowse(argv: string[]): { positionals: string[]; flags: BrowseFlags } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      date: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, patient: { type: 'string' },
      kind: { type: 'string' }, modality: { type: 'string' }, month: { type: 'string' }, year: { type: 'string' },
      key: { type: 'string' }, expires: { type: 'string' }, url: { type: 'string' }, out: { type: 'string' },
      offline: { type: 'boolean' }, grouped: { type: 'boolean' }, limit: { type: 'string' },
    },
  });
  return { positionals, flags: values };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** One line per stored file: the `list --json` contract (key, kind, size, uploadedAt) plus what the index tells. */
function fileLines(records: CatalogRecord[]) {
  return records.flatMap((r) => r.files.map((f) => ({
    key: f.key, kind: f.kind, size: f.storedSize, uploadedAt: f.uploadedAt, date: r.date, record: r.id, fileName: f.fileName,
    patientId: r.patientId, patientName: r.patientName, studyDescription: r.studyDescription,
    modality: r.series.find((s) => s.uid === f.seriesUid)?.modality ?? r.modalities[0] ?? null,
    acquiredAt: r.acquiredAt, workstation: f.workstation, indexed: f.sha256 !== null,
  })));
}

function printRecords(records: CatalogRecord[], flags: BrowseFlags): void {
  if (flags.json) return out(JSON.stringify(flags.grouped ? records : fileLines(records), null, 2));
  for (const r of records) {
    const when = (r.acquiredAt ?? r.uploadedAt).replace('T', ' ').slice(0, 16);
    const who = [r.patientId, r.patientName].filter(Boolean).join(' ') || (r.indexed ? '-' : '(not indexed)');
    const what = r.kind === 'dicom' ? `${r.modalities.join('/') || 'DICOM'} ${r.title} (${r.series.length} series, ${r.files.length} instances)`
      : `${r.title}${r.files.length > 1 ? ` (${r.files.length} files)` : ''}`;
    out(`${when}  ${r.kind.padEnd(11)} ${who}  ${what}`);
    if (!flags.grouped) for (const f of r.files) out(`    ${f.key}`);
  }
}

export async function runList(flags: BrowseFlags): Promise<number> {
  const range = flags.from !== undefined || flags.to !== undefined;
  if (!range && (!flags.date || !DAY.test(flags.date))) throw new UsageError('--date YYYY-MM-DD is required (or --from YYYY-MM-DD --to YYYY-MM-DD)');
  if (range && (flags.date || !flags.from || !flags.to || !DAY.test(flags.from) || !DAY.test(flags.to))) {
    throw new UsageError('--from YYYY-MM-DD and --to YYYY-MM-DD go together, without --date');
  }
  if (flags.kind && !RECORD_KINDS.includes(flags.kind as RecordKind)) throw new UsageError(`--kind must be one of ${RECORD_KINDS.join(', ')}, not "${flags.kind}"`);
  const limit = flags.limit === undefined ? 10_000 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, not "${flags.limit}"`);
  return withAgent(flags, async (agent) => {
    const catalog = agent.browsing.catalog;
    const from = flags.from ?? flags.date!;
    const to = flags.to ?? flags.date!;
    // A script asks the store: every day listed is read again, unless --offline asks for the catalog.
    if (!range && !flags.offline) await catalog.refreshDay(from);
    const result: SearchResult = await catalog.search({
      from, to, limit, ...(flags.patient ? { patient: flags.patient } : {}), ...(flags.kind ? { kind: flags.kind as RecordKind } : {}),
      ...(flags.modality ? { modality: flags.modality } : {}),
    }, range && !flags.offline ? 'all' : 'none');
    printRecords(result.records, flags);
    if (result.truncated) process.stderr.write(`medrelay list: more than ${limit} records match; showing the first ${limit} (use --limit)\n`);
    if (result.daysMissing.length) process.stderr.write(`medrelay list: the store could not be read for ${result.daysMissing.join(', ')}, which the catalog does not hold\n`);
    return result.daysMissing.length ? 1 : 0;
  });
}

export async function runDays(flags: BrowseFlags): Promise<number> {
  if (flags.month && flags.year) throw new UsageError('give --month YYYY-MM or --year YYYY, not both');
  if (flags.month && !/^\d{4}-(0[1-9]|1[0-2])$/.test(flags.month)) throw new UsageError(`--month must be YYYY-MM, not "${flags.month}"`);
  if (flags.year && !/^\d{4}$/.test(flags.year)) throw new UsageError(`--year must be YYYY, not "${flags.year}"`);
  return withAgent(flags, async (agent) => {
    const page = await agent.browsing.catalog.calendar(flags.month ?? flags.year ?? null);
    if (flags.json) out(JSON.stringify(page, null, 2));
    else for (const v of page.values) out(v);
    if (page.offline) process.stderr.write(`medrelay days: the store could not be read (${page.offline}); these come from the catalog\n`);
    return page.offline ? 1 : 0;
  });
}

/** `90s`, `45m`, `12h`, `3d` or plain seconds. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+)\s*([smhd]?)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!;
}

export async function runShare(flags: BrowseFlags): Promise<number> {
  const key = need(flags, 'key', '--key KEY');
  const seconds = parseDuration(flags.expires ?? '');
  if (seconds === null) throw new UsageError('--expires is required: how long the link works, e.g. 3d, 12h or 90m (at most 7d)');
  return withAgent(flags, async (agent) => {
    const link = await agent.browsing.sharer.share(key, seconds);
    if (flags.json) out(JSON.stringify(link, null, 2));
    else {
      out(link.url);
      out(`expires: ${link.expiresAt}`);
      if (link.password) {
        out(`password: ${link.password}`);
        out('send the password by another channel; the recipient runs: medrelay open-share --url URL --out FILE');
      }
    }
    return 0;
  });
}

export async function runOpenShare(flags: BrowseFlags): Promise<number> {
  if (!flags.url) throw new UsageError('--url URL is required');
  if (!flags.out) throw new UsageError('--out PATH is required');
  const password = await readSecret('Password: ');
  if (!password) throw new UsageError('the password is required (standard input or the prompt)');
  const { originalName } = await openShare(flags.url, password, resolve(flags.out));
  out(`wrote ${resolve(flags.out)}${originalName ? ` (originally ${originalName})` : ''}`);
  return 0;
}

export const browseCommands: Record<string, (f: Flags) => Promise<number>> = {
  list: (f) => runList(f as BrowseFlags),
  days: (f) => runDays(f as BrowseFlags),
  share: (f) => runShare(f as BrowseFlags),
  'open-share': (f) => runOpenShare(f as BrowseFlags),
};
