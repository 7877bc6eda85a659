// What a record key tells without opening anything: kind, date, and the parts the grouping needs
// (package folder, DICOM study and series). keys.ts describes keys (kind and date) but does not
// return these parts; this reads them with the same placeholder patterns.
import { describeKey, type KeyLayout, type RecordKind } from '../../../src-shared/keys.js';

export interface KeyParts {
  kind: RecordKind;
  date: string;
  fileName: string;
  /** The key without its last segment. */
  folder: string;
  packageName?: string;
  studyUid?: string;
  seriesUid?: string;
}

const PATTERN: Record<string, string> = {
  '{yyyy}': '\\d{4}', '{mm}': '\\d{2}', '{dd}': '\\d{2}', '{file}': '[^/]+', '{opaque}': '[0-9a-f]{32}(?:\\.[A-Za-z0-9]{1,8})?',
  '{package}': '(?<package>\\d{8}_\\d{6})', '{study}': '(?<study>[0-9.]+)', '{series}': '(?<series>[0-9.]+)', '{sop}': '[0-9.]+',
};

function joinPrefix(prefix: string, rest: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${rest}` : rest;
}

export class KeyReader {
  private readonly dicom: RegExp;
  private readonly pkg: RegExp;

  constructor(private readonly layout: KeyLayout, private readonly prefix: string) {
    const regex = (t: string) => new RegExp(`^${joinPrefix(prefix, t).split(/(\{[a-z]+\})/).map((part) =>
      PATTERN[part] ?? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('')}$`);
    this.dicom = regex(layout.dicom);
    this.pkg = regex(layout.ecgPackage);
  }

  read(key: string): KeyParts | null {
    const info = describeKey(key, this.layout, this.prefix);
    if (!info) return null;
    const slash = key.lastIndexOf('/');
    const parts: KeyParts = { ...info, folder: slash >= 0 ? key.slice(0, slash) : '' };
    const g = info.kind === 'dicom' ? this.dicom.exec(key)?.groups : info.kind === 'ecg-package' ? this.pkg.exec(key)?.groups : undefined;
    if (g?.package) parts.packageName = g.package;
    if (g?.study) parts.studyUid = g.study;
    if (g?.series) parts.seriesUid = g.series;
    return parts;
  }
}
