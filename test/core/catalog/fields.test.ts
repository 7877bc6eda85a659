// Index fields come from the files themselves: DICOM attributes through dicom-parser, ECG JSON
// patient fields best effort, times from file names.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dicomFields, ecgJsonFields, recordFields, timeFromName } from '../../../src-main/core/catalog/fields.js';
import { sampleDicom } from '../../../src-main/core/demo/dicom-sample.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('fields');

describe('index fields', () => {
  it('reads PatientID, PatientName, Modality, the study date and UIDs of a DICOM file', async () => {
    const path = join(dir, 'im.dcm');
    writeFileSync(path, sampleDicom({ studyUid: '1.2.3', seriesUid: '1.2.3.4', sopUid: '1.2.3.4.5', studyDate: '20240315', modality: 'CT', patientName: 'DOE^JANE', patientId: 'MRN-77', pixelBytes: 64 }));
    expect(await dicomFields(path)).toEqual({
      patientId: 'MRN-77', patientName: 'DOE^JANE', modality: 'CT', acquiredAt: '2024-03-15', studyUid: '1.2.3', seriesUid: '1.2.3.4', sopUid: '1.2.3.4.5',
    });
  });

  it('finds patient fields at the top level, in a nested patient object, or as first and last name', () => {
    expect(ecgJsonFields({ patientId: 'P1', name: 'Ann Lee', recordedAt: '2024-03-15T10:15:00' }, 'patient_details_x.json'))
      .toEqual({ patientId: 'P1', patientName: 'Ann Lee', acquiredAt: '2024-03-15T10:15:00' });
    expect(ecgJsonFields({ patient: { id: 'P2', firstName: 'Bo', lastName: 'Ek' } }, 'ECG_Report_1.json')).toEqual({ patientId: 'P2', patientName: 'Bo Ek' });
    // A bare "name" elsewhere is not taken for the patient's (a signup's user name, a device name).
    expect(ecgJsonFields({ name: 'cart-3', heartRate: 72 }, 'ECG_Report_1.json')).toEqual({});
  });

  it('takes the acquisition time from the file name when the content has none, and never throws', async () => {
    expect(timeFromName('ECG_Report_20240315_101500.pdf')).toBe('2024-03-15T10:15:00');
    const pdf = join(dir, 'ECG_Report_20240315_101500.pdf');
    writeFileSync(pdf, '%PDF-1.4\n%%EOF\n');
    expect(await recordFields(pdf, 'ecg-report', 'application/pdf')).toEqual({ acquiredAt: '2024-03-15T10:15:00' });
    expect(await recordFields(join(dir, 'gone_20240315_101500.json'), 'ecg-report', 'application/json')).toEqual({ acquiredAt: '2024-03-15T10:15:00' });
  });
});
