// Record dates: from file and folder names, ECG JSON fields, DICOM DA values and, as a last resort,
// the file's modification time. Every result is YYYY-MM-DD; anything that is not a real calendar
// date is ignored so that the caller falls through to the next source. Never the current time.

const MIN_YEAR = 1900;
const MAX_YEAR = 2199;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** YYYY-MM-DD if year/month/day make a real calendar date in our range, else null. */
export function calendarDate(year: number, month: number, day: number): string | null {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return null;
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

function validTime(hhmmss: string | undefined): boolean {
  if (hhmmss === undefined) return true;
  const h = Number(hhmmss.slice(0, 2));
  const m = Number(hhmmss.slice(2, 4));
  const s = Number(hhmmss.slice(4, 6));
  return h <= 23 && m <= 59 && s <= 60;
}

/** The workstation's local calendar date of an instant (epoch milliseconds). */
export function localDate(epochMs: number): string | null {
  if (!Number.isFinite(epochMs)) return null;
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return null;
  return calendarDate(d.getFullYear(), d.getMonth() + 1, d.getDate());
}

// Digits that are not part of a longer run of digits.
const COMPACT = /(?<!\d)(\d{4})(\d{2})(\d{2})(?:[_T-](\d{6}))?(?!\d)/g;
const DASHED = /(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g;
// Unix time in seconds (10 digits) or milliseconds (13 digits), e.g. user_signup_1710497700.json.
const EPOCH = /(?<!\d)(\d{10}|\d{13})(?!\d)/g;

/**
 * The first real date found in a file or folder name: YYYYMMDD_HHMMSS, YYYYMMDD, YYYY-MM-DD, and
 * (if allowEpoch) a 10- or 13-digit Unix timestamp, which is read as the workstation's local date.
 */
export function dateFromName(name: string, allowEpoch = false): string | null {
  const found: { index: number; date: string }[] = [];
  for (const m of name.matchAll(COMPACT)) {
    const date = calendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
    if (date && validTime(m[4])) found.push({ index: m.index, date });
  }
  for (const m of name.matchAll(DASHED)) {
    const date = calendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
    if (date) found.push({ index: m.index, date });
  }
  if (allowEpoch) {
    for (const m of name.matchAll(EPOCH)) {
      const digits = m[1]!;
      const ms = digits.length === 13 ? Number(digits) : Number(digits) * 1000;
      // 2001-09-09 .. 2100: a 10-digit number below 1e9 is not a plausible timestamp anyway.
      const date = ms >= 1e12 && ms < 4.1e12 ? localDate(ms) : null;
      if (date) found.push({ index: m.index, date });
    }
  }
  found.sort((a, b) => a.index - b.index);
  return found[0]?.date ?? null;
}

/** A DICOM DA value (YYYYMMDD, or the old YYYY.MM.DD) as YYYY-MM-DD, else null. */
export function dateFromDicomDA(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.replace(/[\0 ]+$/g, '').trim();
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v);
  return m ? calendarDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/**
 * A date from one JSON value: an ISO-8601 string (the date as written, or the local date when the
 * string carries a time with a zone), YYYYMMDD[_HHMMSS], or a Unix time in seconds or milliseconds.
 */
export function dateFromJsonValue(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return null;
    if (Number.isInteger(value) && value >= 1e7 && value < 1e8) return dateFromJsonValue(String(value));
    const ms = value >= 1e12 ? value : value * 1000;
    return ms >= 1e12 && ms < 4.1e12 ? localDate(ms) : null;
  }
  if (typeof value !== 'string') return null;
  const v = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(v);
  if (iso) {
    const date = calendarDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
    if (!date) return null;
    if (iso[4] !== undefined && iso[7] !== undefined) return localDate(Date.parse(v.replace(' ', 'T'))) ?? date;
    return date;
  }
  const compact = /^(\d{4})(\d{2})(\d{2})(?:[_T ]?(\d{6}))?$/.exec(v);
  if (compact) {
    const date = calendarDate(Number(compact[1]), Number(compact[2]), Number(compact[3]));
    return date && validTime(compact[4]) ? date : null;
  }
  if (/^\d{10}$|^\d{13}$/.test(v)) return dateFromJsonValue(Number(v));
  return null;
}

/** Top-level JSON fields that ECG carts and uploaders use for the record's time, most specific first. */
export const JSON_DATE_FIELDS: readonly string[] = [
  'recordedAt', 'recorded_at', 'recordingDate', 'recording_date', 'acquisitionDate', 'acquisition_date',
  'signupDate', 'signup_date', 'reportDate', 'report_date', 'examDate', 'exam_date',
  'createdAt', 'created_at', 'timestamp', 'dateTime', 'datetime', 'date', 'time',
];

/** The first real date among the known top-level fields of a parsed JSON document. */
export function dateFromJson(doc: unknown): string | null {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
  const record = doc as Record<string, unknown>;
  const lower = new Map<string, unknown>();
  for (const [k, v] of Object.entries(record)) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);
  for (const field of JSON_DATE_FIELDS) {
    const value = Object.hasOwn(record, field) ? record[field] : lower.get(field.toLowerCase());
    const date = dateFromJsonValue(value);
    if (date) return date;
  }
  return null;
}
