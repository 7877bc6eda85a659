// Result<T> and AppError: what crosses a process boundary (IPC, CLI JSON output).
// Errors travel as plain data, never as thrown objects.

/** What a person can do about an error. */
export type ErrorCode = 'auth' | 'network' | 'conflict' | 'not-found' | 'bad-input' | 'internal';

export interface AppError {
  code: ErrorCode;
  /** One sentence that names the file, key or setting involved. */
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}
