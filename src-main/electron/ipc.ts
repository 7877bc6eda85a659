// Binds AppApi to IPC: one `ipcMain.handle('medrelay:<method>')` per name in API_METHODS, each
// checking the sender, validating the arguments (api-schemas.ts) and answering with a Result, and
// forwards AppEvents to our windows. Electron's objects are parameters (structural types below),
// so test/electron/ipc.test.ts drives all of it with hand fakes.
import { pathToFileURL } from 'node:url';
import { API_METHODS, EVENT_NAMES, type ApiMethod, type AppApi, type AppEvents } from '../../src-shared/api.js';
import { fail, type Result } from '../../src-shared/result.js';
import { API_SCHEMAS, describeIssues, type ApiSchemas } from './api-schemas.js';
import type { EventName, OnAppEvent } from './agent-port.js';
import { eventChannel, invokeChannel } from './channels.js';

/** A bound method: takes the raw IPC arguments, never throws, always answers with a Result. */
export type Handler = (args: readonly unknown[]) => Promise<Result<unknown>>;
export type HandlerTable = Readonly<Record<ApiMethod, Handler>>;

/** The parts of Electron's IpcMainInvokeEvent the sender check reads. */
export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainLike<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface EventTargetLike {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

export interface EventSourceLike {
  on: OnAppEvent;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  if (value.ok === true) return 'value' in value;
  if (value.ok !== false || !('error' in value)) return false;
  const e = value.error;
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

/** Only plain data crosses: an AppError is rebuilt so no stack, cause or extra fields leak. */
function plain(result: Result<unknown>): Result<unknown> {
  return result.ok ? result : fail(result.error.code, result.error.message);
}

function handlerFor(method: ApiMethod, api: AppApi, schema: ApiSchemas[ApiMethod]): Handler {
  return async (args) => {
    const parsed = schema.safeParse(args);
    if (!parsed.success) return fail('bad-input', `${method}: ${describeIssues(parsed.error)}`);
    try {
      const fn = api[method] as (...a: readonly unknown[]) => unknown;
      const out = await fn.apply(api, parsed.data);
      if (!isResult(out)) return fail('internal', `${method} answered with something that is not a Result`);
      return plain(out);
    } catch (err) {
      return fail('internal', `${method} failed: ${messageOf(err)}`);
    }
  };
}

/** One validated, never-throwing handler per name in API_METHODS. */
export function buildHandlers(api: AppApi, schemas: ApiSchemas = API_SCHEMAS): HandlerTable {
  const table = {} as Record<ApiMethod, Handler>;
  for (const method of API_METHODS) table[method] = handlerFor(method, api, schemas[method]);
  return Object.freeze(table);
}

/** Accepts a page URL only if it is our built renderer file (any query or fragment). */
export function rendererPageMatcher(htmlPath: string): (url: string) => boolean {
  const expected = pathToFileURL(htmlPath).href;
  return (url) => {
    try {
      const u = new URL(url);
      u.search = '';
      u.hash = '';
      return u.href === expected;
    } catch {
      return false;
    }
  };
}

/**
 * A call is ours only if it comes from the top frame of one of our windows' web contents and that
 * frame shows our renderer page: not an iframe, not a page the window was navigated to.
 */
export function isTrustedSender(
  event: InvokeEventLike,
  ourContentsIds: () => Iterable<number>,
  isOurPage: (url: string) => boolean,
): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!new Set(ourContentsIds()).has(event.sender.id)) return false;
  return isOurPage(frame.url);
}

/** Registers one IPC handler per API method; returns a function that removes them all. */
export function bindIpc<E>(
  ipcMain: IpcMainLike<E>,
  handlers: HandlerTable,
  isTrusted: (event: E) => boolean,
): () => void {
  for (const method of API_METHODS) {
    const handler = handlers[method];
    ipcMain.handle(invokeChannel(method), (event, ...args) => isTrusted(event)
      ? handler(args)
      : Promise.resolve(fail('auth', `${method} was refused: the call did not come from a MedRelay window`)));
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(invokeChannel(method));
  };
}

/** Sends every AppEvent to the current targets, on `medrelay:event:<name>`. */
export function forwardEvents(source: EventSourceLike, targets: () => Iterable<EventTargetLike>): void {
  // One overload per event cannot take the union `name`; the loop is what keeps them in step.
  const on = source.on as (event: EventName, listener: (payload: AppEvents[EventName]) => void) => unknown;
  for (const name of EVENT_NAMES) {
    on.call(source, name, (payload) => {
      for (const target of targets()) {
        if (!target.isDestroyed()) target.send(eventChannel(name), payload);
      }
    });
  }
}
