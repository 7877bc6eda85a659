import { describe, expect, it } from 'vitest';
import { calendarDate, dateFromDicomDA, dateFromJson, dateFromJsonValue, dateFromName, localDate } from '../../../src-main/core/records/dates.js';

describe('dates', () => {
  it('accepts only real calendar dates', () => {
    expect(calendarDate(2024, 2, 29)).toBe('2024-02-29');
    expect(calendarDate(2023, 2, 29)).toBeNull();
    expect(calendarDate(2024, 13, 1)).toBeNull();
    expect(calendarDate(2024, 4, 31)).toBeNull();
    expect(calendarDate(1850, 1, 1)).toBeNull();
  });

  it('finds the first real date in a name', () => {
    expect(dateFromName('ECG_Report_20240315_101500')).toBe('2024-03-15');
    expect(dateFromName('ECG_Report_2024-03-15')).toBe('2024-03-15');
    expect(dateFromName('scan20240315')).toBe('2024-03-15');
    expect(dateFromName('ECG_Report_20241399_101500')).toBeNull();
    expect(dateFromName('ECG_Report_20240315_256000')).toBeNull(); // not a time of day
    expect(dateFromName('patient_123420240315')).toBeNull(); // part of a longer number
    expect(dateFromName('id_1710497700')).toBeNull();
    expect(dateFromName('1710497700', true)).toBe(localDate(1710497700_000));
    expect(dateFromName('1710497700123', true)).toBe(localDate(1710497700123));
    expect(dateFromName('20241399_x_2024-01-02')).toBe('2024-01-02');
  });

  it('reads DICOM DA values', () => {
    expect(dateFromDicomDA('20130125')).toBe('2013-01-25');
    expect(dateFromDicomDA('2013.01.25')).toBe('2013-01-25');
    expect(dateFromDicomDA('20130125 \0')).toBe('2013-01-25');
    expect(dateFromDicomDA('20241399')).toBeNull();
    expect(dateFromDicomDA('')).toBeNull();
    expect(dateFromDicomDA(undefined)).toBeNull();
  });

  it('reads JSON values: ISO strings, compact dates and Unix times', () => {
    expect(dateFromJsonValue('2024-03-15')).toBe('2024-03-15');
    expect(dateFromJsonValue('2024-03-15T10:15:00')).toBe('2024-03-15');
    expect(dateFromJsonValue('2024-03-15T10:15:00Z')).toBe(localDate(Date.parse('2024-03-15T10:15:00Z')));
    expect(dateFromJsonValue('2024-03-15 10:15:00+01:00')).toBe(localDate(Date.parse('2024-03-15T10:15:00+01:00')));
    expect(dateFromJsonValue('20240315_101500')).toBe('2024-03-15');
    expect(dateFromJsonValue(20240315)).toBe('2024-03-15');
    expect(dateFromJsonValue(1710497700)).toBe(localDate(1710497700_000));
    expect(dateFromJsonValue('1710497700')).toBe(localDate(1710497700_000));
    expect(dateFromJsonValue(1710497700_000)).toBe(localDate(1710497700_000));
    for (const bad of ['2024-02-30', 'yesterday', '', 42, -1, null, true, {}]) expect(dateFromJsonValue(bad)).toBeNull();
  });

  it('looks for common top-level date fields, skipping ones that are not dates', () => {
    expect(dateFromJson({ timestamp: 'n/a', createdAt: '2024-03-15T09:00:00' })).toBe('2024-03-15');
    expect(dateFromJson({ CreatedAt: '2024-03-16' })).toBe('2024-03-16');
    expect(dateFromJson({ nested: { date: '2024-03-15' } })).toBeNull();
    expect(dateFromJson([{ date: '2024-03-15' }])).toBeNull();
    expect(dateFromJson('2024-03-15')).toBeNull();
  });
});
