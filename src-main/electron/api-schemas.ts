// Argument schemas for every AppApi method, checked in main before the agent sees a call. The
// mapped type makes a method without a schema (or a schema that disagrees with AppApi) a compile
// error.
import { z } from 'zod';
import type { ApiMethod, AppApi } from '../../src-shared/api.js';

export type ApiArgs<M extends ApiMethod> = Parameters<AppApi[M]>;
export type ApiSchemas = { readonly [M in ApiMethod]: z.ZodType<ApiArgs<M>> };

/** A real calendar day, YYYY-MM-DD. */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').refine((s) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}, 'is not a calendar day');

const noArgs = z.tuple([]);

export const API_SCHEMAS: ApiSchemas = {
  getStatus: noArgs,
  listDay: z.tuple([z.strictObject({ date: day })]),
  pauseUploads: noArgs,
  resumeUploads: noArgs,
};

/** One line naming what was wrong, e.g. `0.date: must be YYYY-MM-DD`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
