// Mixed workloads for the delivery tests: many small ECG reports and a few large DICOM files,
// with the key and SHA-256 each must arrive under, and a check that everything did, exactly once.
import type { S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dicomHeader } from '../../src-main/core/demo/dicom-sample.js';
import { samplePdf } from '../../src-main/core/demo/samples.js';
import { runCli } from './cli.js';
import { listOpenMultipartUploads, listRecordKeys, testS3Client } from './s3.js';

export interface Workload {
  expected: Map<string, string>;
  bytes: number;
}

/** Writes `small` PDFs and `large` DICOM files of `largeBytes` pixel data into dir/inbox. */
export function writeWorkload(dir: string, opts: { small: number; large: number; largeBytes: number; day: string; seed: number }): Workload {
  const expected = new Map<string, string>();
  let bytes = 0;
  const [y, m, d] = opts.day.split('-');
  const compact = `${y}${m}${d}`;
  for (let i = 0; i < opts.small; i++) {
    const t = `${String(Math.floor(i / 3600) % 24).padStart(2, '0')}${String(Math.floor(i / 60) % 60).padStart(2, '0')}${String(i % 60).padStart(2, '0')}`;
    const name = `ECG_Report_${compact}_${t}.pdf`;
    const pdf = samplePdf(`report ${opts.seed}-${i}`);
    writeFileSync(join(dir, 'inbox/ecg', name), pdf);
    expected.set(`ecg-reports/${y}/${m}/${d}/${name}`, createHash('sha256').update(pdf).digest('hex'));
    bytes += pdf.length;
  }
  for (let i = 0; i < opts.large; i++) {
    const uid = `1.2.826.0.1.3680043.10.1234.${opts.seed}.${i}`;
    const header = dicomHeader({ studyUid: uid, seriesUid: `${uid}.1`, sopUid: `${uid}.1.1`, studyDate: compact, pixelBytes: opts.largeBytes });
    const h = createHash('sha256').update(header);
    const file = join(dir, `inbox/dicom/${opts.seed}-${i}.dcm`);
    const fd = openSync(file, 'w');
    writeSync(fd, header);
    const chunk = Buffer.alloc(1024 * 1024);
    for (let off = 0; off < opts.largeBytes; off += chunk.length) {
      for (let j = 0; j < chunk.length; j += 4096) chunk[j] = (off / chunk.length + j + i) & 0xff;
      const part = chunk.subarray(0, Math.min(chunk.length, opts.largeBytes - off));
      writeSync(fd, part);
      h.update(part);
    }
    closeSync(fd);
    expected.set(`dicom/${y}/${m}/${d}/${uid}/${uid}.1/${uid}.1.1.dcm`, h.digest('hex'));
    bytes += header.length + opts.largeBytes;
  }
  return { expected, bytes };
}

export interface DeliveryCheck {
  missing: string[];
  extra: string[];
  corrupt: string[];
  openUploads: number;
}

/** Every expected key once, nothing else, each byte-identical after `medrelay get`, no open upload. */
export async function checkDelivery(dir: string, config: string, bucket: string, w: Workload, env: NodeJS.ProcessEnv, client: S3Client = testS3Client()): Promise<DeliveryCheck> {
  const keys = await listRecordKeys(client, bucket);
  const missing = [...w.expected.keys()].filter((k) => !keys.includes(k));
  const extra = keys.filter((k) => !w.expected.has(k));
  const corrupt: string[] = [];
  const entries = [...w.expected].filter(([k]) => keys.includes(k));
  for (let i = 0; i < entries.length; i += 4) {
    await Promise.all(entries.slice(i, i + 4).map(async ([key, sha], j) => {
      const out = join(dir, `check-${i + j}`);
      const r = await runCli(['get', '--config', config, '--key', key, '--out', out], { env });
      if (r.code !== 0) corrupt.push(`${key}: get exited ${r.code}: ${r.stderr.trim()}`);
      else if (createHash('sha256').update(readFileSync(out)).digest('hex') !== sha) corrupt.push(`${key}: other bytes than the source`);
    }));
  }
  const openUploads = (await listOpenMultipartUploads(client, bucket)).length;
  return { missing, extra, corrupt, openUploads };
}

/** Delivered jobs plus journaled parts: grows whenever the agent gets work into the store. */
export function progressMarker(dataDir: string): number {
  let db;
  try {
    db = new Database(join(dataDir, 'medrelay.db'), { readonly: true, fileMustExist: true });
  } catch {
    return 0;
  }
  try {
    const done = (db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'done'`).get() as { n: number }).n;
    const parts = (db.prepare('SELECT COUNT(*) AS n FROM parts').get() as { n: number }).n;
    return done + parts;
  } catch {
    return 0; // schema not there yet
  } finally {
    db.close();
  }
}

/** The agent's job table, read-only, for the job history (attempts, resumed parts). */
export function jobHistory(dataDir: string): { state: string; attempts: number; resumedParts: number; size: number; key: string }[] {
  const db = new Database(join(dataDir, 'medrelay.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT state, attempts, resumed_parts AS resumedParts, size, object_key AS key FROM jobs').all() as never;
  } finally {
    db.close();
  }
}
