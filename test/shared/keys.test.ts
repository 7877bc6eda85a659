import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, dayPrefixes, describeKey, objectKey, templateProblem } from '../../src-shared/keys.js';

const study = '1.2.826.0.1.3680043.8.498.1';
describe('objectKey', () => {
  it('puts a single ECG report under its own date', () => {
    expect(objectKey({ kind: 'ecg-report', date: '2024-03-15', fileName: 'ECG_Report_20240315_101500.pdf' }))
      .toEqual({ ok: true, value: 'ecg-reports/2024/03/15/ECG_Report_20240315_101500.pdf' });
  });
  it('keeps an ECG package folder together', () => {
    const r = objectKey({ kind: 'ecg-package', date: '2024-03-15', fileName: 'ecg_data_20240315_101500.json', packageName: '20240315_101500' });
    expect(r).toEqual({ ok: true, value: 'ecg-reports/2024/03/15/20240315_101500/ecg_data_20240315_101500.json' });
  });
  it('lays DICOM out by study, series and instance UID, under a prefix', () => {
    const r = objectKey({ kind: 'dicom', date: '2023-12-01', fileName: 'IM1', studyUid: study, seriesUid: `${study}.2`, sopUid: `${study}.2.3` }, DEFAULT_LAYOUT, 'site-a/');
    expect(r).toEqual({ ok: true, value: `site-a/dicom/2023/12/01/${study}/${study}.2/${study}.2.3.dcm` });
  });
  it('refuses names that would escape the layout', () => {
    expect(objectKey({ kind: 'ecg-report', date: '2024-03-15', fileName: '..' }).ok).toBe(false);
    expect(objectKey({ kind: 'ecg-report', date: '2024-3-15', fileName: 'a.pdf' }).ok).toBe(false);
    expect(objectKey({ kind: 'dicom', date: '2024-03-15', fileName: 'x', studyUid: 'abc', seriesUid: '1', sopUid: '1' }).ok).toBe(false);
    expect(objectKey({ kind: 'ecg-package', date: '2024-03-15', fileName: 'a.pdf', packageName: 'misc' }).ok).toBe(false);
  });
});

describe('describeKey', () => {
  it('reads kind and date back from every default layout', () => {
    expect(describeKey('ecg-reports/2024/03/15/ECG_Report_20240315_101500.pdf')).toMatchObject({ kind: 'ecg-report', date: '2024-03-15' });
    expect(describeKey('ecg-reports/2024/03/15/20240315_101500/patient_details_20240315_101500.json')).toMatchObject({ kind: 'ecg-package' });
    expect(describeKey('ecg-reports/2024/03/15/user_signup_x.json')).toMatchObject({ kind: 'ecg-signup' });
    expect(describeKey(`p/dicom/2023/12/01/${study}/${study}.2/${study}.2.3.dcm`, DEFAULT_LAYOUT, 'p')).toMatchObject({ kind: 'dicom', date: '2023-12-01' });
    expect(describeKey('elsewhere/readme.txt')).toBeNull();
  });
});

describe('dayPrefixes', () => {
  it('gives one prefix per distinct template, each ending at the day', () => {
    expect(dayPrefixes('2024-03-15')).toEqual(['ecg-reports/2024/03/15/', 'dicom/2024/03/15/']);
  });
});

describe('templateProblem', () => {
  it('requires the date first and the identity placeholders', () => {
    expect(templateProblem('ecgReport', '{yyyy}/{mm}/{dd}/{file}')).toBeNull();
    expect(templateProblem('ecgReport', '{file}/{yyyy}/{mm}/{dd}')).toMatch(/first placeholder/);
    expect(templateProblem('dicom', 'dicom/{yyyy}/{mm}/{dd}/{study}.dcm')).toMatch(/\{sop\}/);
    expect(templateProblem('ecgSignup', 'ecg/{yyyy}/{mm}/{dd}/{opaque}')).toBeNull();
    expect(templateProblem('dicom', 'dicom/{yyyy}/{mm}/{dd}/{opaque}/{sop}')).toMatch(/cannot use \{opaque\}/);
  });
});
