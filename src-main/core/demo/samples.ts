// Sample records for the demo profile, in the layouts ECG carts and modalities really write:
// a single report with its JSON sidecar, a package folder, a signup file and a DICOM study.
// Everything is made up; nothing identifies a person.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleDicom } from './dicom-sample.js';

/** A minimal valid one-page PDF with a line of text. */
export function samplePdf(title: string): Buffer {
  const text = title.replace(/[()\\]/g, '');
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function stamp(d: Date): { compact: string; day: string } {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  return { compact: `${day}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`, day };
}

/** Writes the samples into `inbox/ecg` and `inbox/dicom`; returns the files written. */
export async function writeSampleRecords(inbox: string, at: Date): Promise<string[]> {
  const { compact, day } = stamp(at);
  const ecg = join(inbox, 'ecg');
  const dicom = join(inbox, 'dicom');
  const pkg = join(ecg, compact);
  await mkdir(pkg, { recursive: true });
  await mkdir(dicom, { recursive: true });
  const ecgData = { recordedAt: at.toISOString(), sampleRateHz: 500, leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'], samples: {} };
  const files: [string, Buffer | string][] = [
    [join(ecg, `ECG_Report_${compact}.pdf`), samplePdf(`Demo ECG report ${compact}`)],
    [join(ecg, `ECG_Report_${compact}.json`), JSON.stringify({ recordedAt: at.toISOString(), heartRate: 72, device: 'demo-cart' }, null, 2)],
    [join(pkg, `ECG_Report_${compact}.pdf`), samplePdf(`Demo ECG package ${compact}`)],
    [join(pkg, `patient_details_${compact}.json`), JSON.stringify({ patientId: 'DEMO-0001', name: 'Demo Patient' }, null, 2)],
    [join(pkg, `ecg_data_${compact}.json`), JSON.stringify(ecgData)],
    [join(ecg, `user_signup_demo_${compact}.json`), JSON.stringify({ createdAt: at.toISOString(), user: 'demo' })],
  ];
  const study = `1.2.826.0.1.3680043.10.1234.${day}.1`;
  for (let i = 1; i <= 2; i++) {
    const sop = `${study}.1.${i}`;
    files.push([join(dicom, `IM${i}.dcm`), sampleDicom({ studyUid: study, seriesUid: `${study}.1`, sopUid: sop, studyDate: day, modality: 'OT', pixelBytes: 64 * 64 })]);
  }
  for (const [path, content] of files) await writeFile(path, content);
  return files.map(([p]) => p);
}
