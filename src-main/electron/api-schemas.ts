// Argument schemas for every AppApi method, checked in main before the agent sees a call. The
// mapped type makes a method without a schema (or a schema that disagrees with AppApi) a compile
// error.
import { z } from 'zod';
import { isAbsolute } from 'node:path';
import type { ApiMethod, AppApi } from '../../src-shared/api.js';
import { RECORD_KINDS, type RecordKind } from '../../src-shared/keys.js';

export type ApiArgs<M extends ApiMethod> = Parameters<AppApi[M]>;
export type ApiSchemas = { readonly [M in ApiMethod]: z.ZodType<ApiArgs<M>> };

/** A real calendar day, YYYY-MM-DD. */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').refine((s) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}, 'is not a calendar day');

const noArgs = z.tuple([]);

/** An object key as the store lists it: no leading slash, no empty or dot segments. */
const objectKey = z.string().min(1).max(1024).refine((k) => !k.startsWith('/') && k.split('/').every((p) => p !== '' && p !== '.' && p !== '..'), 'is not an object key');

export const API_SCHEMAS: ApiSchemas = {
  getStatus: noArgs,
  listDay: z.tuple([z.strictObject({ date: day })]),
  pauseUploads: noArgs,
  resumeUploads: noArgs,
  listCalendar: z.tuple([z.strictObject({ under: z.string().regex(/^\d{4}(-(0[1-9]|1[0-2]))?$/, 'must be YYYY or YYYY-MM').optional() })]),
  openDay: z.tuple([z.strictObject({
    date: day, refresh: z.boolean().optional(), offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(10_000).optional(),
  })]),
  searchRecords: z.tuple([z.strictObject({
    from: day, to: day, patient: z.string().min(1).max(256).optional(), kind: z.enum(RECORD_KINDS as [RecordKind, ...RecordKind[]]).optional(),
    modality: z.string().min(1).max(16).optional(), limit: z.number().int().min(1).max(10_000).optional(),
  })]),
  previewRecord: z.tuple([z.strictObject({ key: objectKey, maxBytes: z.number().int().min(1).max(128 * 1024 * 1024).optional() })]),
  saveRecord: z.tuple([z.strictObject({ key: objectKey, path: z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path') })]),
  shareRecord: z.tuple([z.strictObject({ key: objectKey, expiresInSeconds: z.number().int().min(60).max(7 * 24 * 3600) })]),
};

/** One line naming what was wrong, e.g. `0.date: must be YYYY-MM-DD`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
