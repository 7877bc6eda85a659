// Object-key layout (pure): a record's identity and date → its key, and a key → kind and date.
// The date is always the record's own date, never the upload date.
import { fail, ok, type Result } from './result.js';

export type RecordKind = 'ecg-report' | 'ecg-package' | 'ecg-signup' | 'dicom';
export const RECORD_KINDS: readonly RecordKind[] = ['ecg-report', 'ecg-package', 'ecg-signup', 'dicom'];

/** What the key of one file is made of. */
export interface RecordRef {
  kind: RecordKind;
  /** The record's own date, YYYY-MM-DD. */
  date: string;
  /** Base name of the source file. */
  fileName: string;
  /** ECG package folder name, YYYYMMDD_HHMMSS (ecg-package only). */
  packageName?: string;
  /** For templates with {opaque}: an id that replaces the file name (32 hex digits + extension). */
  opaqueId?: string;
  /** DICOM UIDs (dicom only). */
  studyUid?: string;
  seriesUid?: string;
  sopUid?: string;
}

/**
 * Key templates per kind. Placeholders: {yyyy} {mm} {dd} and, by kind, {file}, {package},
 * {study} {series} {sop}. Every template must start with its date part so that a day is one prefix.
 * ECG templates may use {opaque} instead of {file}, for devices that put patient names in file
 * names: the key then carries an opaque id and the name travels inside the encrypted object.
 */
export interface KeyLayout {
  ecgReport: string;
  ecgPackage: string;
  ecgSignup: string;
  dicom: string;
}

export const DEFAULT_LAYOUT: KeyLayout = {
  ecgReport: 'ecg-reports/{yyyy}/{mm}/{dd}/{file}',
  ecgPackage: 'ecg-reports/{yyyy}/{mm}/{dd}/{package}/{file}',
  ecgSignup: 'ecg-reports/{yyyy}/{mm}/{dd}/{file}',
  dicom: 'dicom/{yyyy}/{mm}/{dd}/{study}/{series}/{sop}.dcm',
};

const TEMPLATE_OF: Record<RecordKind, keyof KeyLayout> = {
  'ecg-report': 'ecgReport',
  'ecg-package': 'ecgPackage',
  'ecg-signup': 'ecgSignup',
  dicom: 'dicom',
};

/** The placeholder that makes a key unique within a day, per template. */
export const IDENTITY_PLACEHOLDERS: Record<keyof KeyLayout, readonly string[]> = {
  ecgReport: ['{file}'],
  ecgPackage: ['{package}', '{file}'],
  ecgSignup: ['{file}'],
  dicom: ['{sop}'],
};

/** True when the template hides the file name behind {opaque}. */
export function usesOpaqueName(template: string): boolean {
  return template.includes('{opaque}');
}

export function templateFor(kind: RecordKind, layout: KeyLayout): string {
  return layout[TEMPLATE_OF[kind]];
}

export const SIGNUP_PREFIX = 'user_signup_';
export const PACKAGE_NAME = /^\d{8}_\d{6}$/;
const UID = /^[0-9]+(\.[0-9]+)*$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Checks that a template has its date first and its identity placeholders; returns a problem or null. */
export function templateProblem(name: keyof KeyLayout, template: string): string | null {
  const datePart = template.indexOf('{yyyy}');
  if (datePart < 0 || !template.includes('{mm}') || !template.includes('{dd}')) {
    return `must contain {yyyy}, {mm} and {dd}`;
  }
  const firstPlaceholder = template.indexOf('{');
  if (firstPlaceholder !== datePart) return 'must have {yyyy} as its first placeholder';
  for (const p of IDENTITY_PLACEHOLDERS[name]) {
    const alternative = p === '{file}' && name !== 'dicom' && template.includes('{opaque}');
    if (!template.includes(p) && !alternative) return `must contain ${p}${p === '{file}' ? ' (or {opaque})' : ''}`;
  }
  if (name === 'dicom' && template.includes('{opaque}')) return 'cannot use {opaque} (DICOM keys hold UIDs, not names)';
  if (template.startsWith('/') || template.includes('//')) return 'must not start with / or contain //';
  return null;
}

function safeName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\\') &&
    name !== '.' && name !== '..' && ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

function joinPrefix(prefix: string, rest: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${rest}` : rest;
}

/** The object key of one file. */
export function objectKey(ref: RecordRef, layout: KeyLayout = DEFAULT_LAYOUT, prefix = ''): Result<string> {
  const d = DATE.exec(ref.date);
  if (!d) return fail('bad-input', `record date "${ref.date}" is not YYYY-MM-DD`);
  if (!safeName(ref.fileName)) return fail('bad-input', `file name "${ref.fileName}" cannot be part of an object key`);
  const values: Record<string, string | undefined> = {
    '{yyyy}': d[1], '{mm}': d[2], '{dd}': d[3], '{file}': ref.fileName, '{opaque}': ref.opaqueId,
    '{package}': ref.packageName, '{study}': ref.studyUid, '{series}': ref.seriesUid, '{sop}': ref.sopUid,
  };
  if (ref.kind === 'ecg-package' && !(ref.packageName && PACKAGE_NAME.test(ref.packageName))) {
    return fail('bad-input', `package folder "${ref.packageName ?? ''}" is not YYYYMMDD_HHMMSS`);
  }
  if (ref.kind === 'dicom') {
    for (const [name, v] of [['StudyInstanceUID', ref.studyUid], ['SeriesInstanceUID', ref.seriesUid], ['SOPInstanceUID', ref.sopUid]] as const) {
      if (!v || !UID.test(v) || v.length > 64) return fail('bad-input', `${name} "${v ?? ''}" of ${ref.fileName} is not a valid DICOM UID`);
    }
  }
  const template = layout[TEMPLATE_OF[ref.kind]];
  let missing: string | null = null;
  const key = template.replace(/\{[a-z]+\}/g, (p) => {
    const v = values[p];
    if (v === undefined) missing = p;
    return v ?? '';
  });
  if (missing) return fail('bad-input', `key template "${template}" needs ${missing}, which ${ref.fileName} does not have`);
  return ok(joinPrefix(prefix, key));
}

/** The key prefixes under which the records of one day are stored, one per distinct template. */
export function dayPrefixes(date: string, layout: KeyLayout = DEFAULT_LAYOUT, prefix = ''): string[] {
  const d = DATE.exec(date);
  if (!d) throw new Error(`date "${date}" is not YYYY-MM-DD`);
  const out = new Set<string>();
  for (const template of Object.values(layout) as string[]) {
    const dd = template.indexOf('{dd}') + '{dd}'.length;
    let part = template.slice(0, dd).replace('{yyyy}', d[1]!).replace('{mm}', d[2]!).replace('{dd}', d[3]!);
    if (template[dd] === '/') part += '/';
    out.add(joinPrefix(prefix, part));
  }
  return [...out];
}

const PATTERN_OF: Record<string, string> = {
  '{yyyy}': '(?<yyyy>\\d{4})', '{mm}': '(?<mm>\\d{2})', '{dd}': '(?<dd>\\d{2})', '{file}': '(?<file>[^/]+)',
  '{opaque}': '(?<opaque>[0-9a-f]{32}(?:\\.[A-Za-z0-9]{1,8})?)',
  '{package}': '(?<package>\\d{8}_\\d{6})', '{study}': '(?<study>[0-9.]+)', '{series}': '(?<series>[0-9.]+)',
  '{sop}': '(?<sop>[0-9.]+)',
};

function templateRegex(template: string, prefix: string): RegExp {
  const escaped = joinPrefix(prefix, template).split(/(\{[a-z]+\})/).map((part) =>
    PATTERN_OF[part] ?? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('');
  return new RegExp(`^${escaped}$`);
}

export interface KeyInfo {
  kind: RecordKind;
  date: string;
  fileName: string;
}

/** Kind and date of a key written with this layout, or null for a key it did not produce. */
export function describeKey(key: string, layout: KeyLayout = DEFAULT_LAYOUT, prefix = ''): KeyInfo | null {
  // Most specific first: a package key would also match a report template with {file} = "pkg/x".
  const order: RecordKind[] = ['dicom', 'ecg-package', 'ecg-signup', 'ecg-report'];
  for (const kind of order) {
    const m = templateRegex(layout[TEMPLATE_OF[kind]], prefix).exec(key);
    if (!m?.groups) continue;
    const g = m.groups;
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    if (kind === 'ecg-signup' && !fileName.startsWith(SIGNUP_PREFIX)) continue;
    if (kind === 'ecg-report' && fileName.startsWith(SIGNUP_PREFIX) && layout.ecgReport === layout.ecgSignup) continue;
    return { kind, date: `${g.yyyy}-${g.mm}-${g.dd}`, fileName };
  }
  return null;
}
