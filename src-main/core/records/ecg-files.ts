// Completeness of the files ECG carts write: PDF reports and JSON documents.
import { readAt, type ReadHandle } from './source.js';

export type FileCheck<T = undefined> =
  | { status: 'complete'; value: T }
  | { status: 'incomplete'; reason: string }
  | { status: 'rejected'; reason: string };

const PDF_WINDOW = 1024;
/** JSON files are parsed whole; ECG data files are a few megabytes at most. */
export const JSON_MAX = 64 * 1024 * 1024;

/** A PDF is complete when it starts with %PDF- and ends with %%EOF (then only whitespace) in its last 1024 bytes. */
export async function checkPdf(handle: ReadHandle, size: number, name: string): Promise<FileCheck> {
  if (size === 0) return { status: 'incomplete', reason: `${name} is empty` };
  const head = await readAt(handle, 0, Math.min(size, PDF_WINDOW));
  if (!head.toString('latin1').includes('%PDF-')) {
    if (size < 5 || head.every((b) => b === 0)) return { status: 'incomplete', reason: `${name} has no %PDF- header yet` };
    return { status: 'rejected', reason: `${name} is not a PDF (no %PDF- header in its first ${PDF_WINDOW} bytes)` };
  }
  const tailStart = Math.max(0, size - PDF_WINDOW);
  const tail = await readAt(handle, tailStart, size - tailStart);
  // PDF white space: NUL, TAB, LF, FF, CR, SPACE.
  if (!/%%EOF[\0\t\n\f\r ]*$/.test(tail.toString('latin1'))) {
    return { status: 'incomplete', reason: `PDF does not end with %%EOF (${name})` };
  }
  return { status: 'complete', value: undefined };
}

/** A JSON file is complete when it parses; the parsed document is returned for classification. */
export async function checkJson(handle: ReadHandle, size: number, name: string): Promise<FileCheck<unknown>> {
  if (size === 0) return { status: 'incomplete', reason: `${name} is empty` };
  if (size > JSON_MAX) return { status: 'rejected', reason: `${name} is larger than ${JSON_MAX / 1048576} MB, too large for a JSON record` };
  const bytes = await readAt(handle, 0, size);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return { status: 'incomplete', reason: `${name} contains only white space` };
  try {
    return { status: 'complete', value: JSON.parse(text) as unknown };
  } catch {
    // Not the parser's message: V8 quotes the document's text in it, and reasons end up in logs.
    return { status: 'incomplete', reason: `JSON does not parse (${name}): cut off or invalid` };
  }
}
