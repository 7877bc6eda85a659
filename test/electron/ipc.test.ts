// The IPC binding, driven with hand fakes of ipcMain, the invoke event and the agent: every
// method of API_METHODS is bound, arguments are validated, answers are always Results, calls
// from anything but our window's top frame are refused, and AppEvents reach our windows.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { API_METHODS, type AppApi, type AppEvents, type StatusSnapshot } from '../../src-shared/api.js';
import { ok, type Result } from '../../src-shared/result.js';
import { API_SCHEMAS } from '../../src-main/electron/api-schemas.js';
import {
  bindIpc, buildHandlers, forwardEvents, isTrustedSender, rendererPageMatcher,
  type EventSourceLike, type InvokeEventLike, type IpcMainLike,
} from '../../src-main/electron/ipc.js';

const snapshot: StatusSnapshot = {
  warnings: [],
  policy: { path: null, locked: [] },
  counts: { queued: 1, uploading: 0, committed: 0, 'retry-wait': 0, done: 3, 'needs-attention': 0, failed: 0 },
  paused: false, storeReachable: true, watched: [], inFlight: [], recentErrors: [], incompleteFiles: 0, oldestWaiting: null, nextRetryAt: null,
};

function fakeApi(overrides: Partial<AppApi> = {}): AppApi {
  return {
    getStatus: vi.fn(async () => ok(snapshot)),
    listDay: vi.fn(async () => ok([])),
    pauseUploads: vi.fn(async () => ok({ ...snapshot, paused: true })),
    resumeUploads: vi.fn(async () => ok(snapshot)),
    listCalendar: vi.fn(async () => ok({ under: null, values: [], offline: null })),
    openDay: vi.fn(async ({ date }) => ok({ date, records: [], offset: 0, total: 0, files: 0, refreshedAt: null, source: 'store' as const, offline: null, unreadableIndex: 0 })),
    searchRecords: vi.fn(async () => ok({ records: [], truncated: false, daysMissing: [] })),
    previewRecord: vi.fn(async ({ key }) => ok({ key, fileName: 'a.pdf', contentType: 'application/pdf', size: 0, base64: '' })),
    saveRecord: vi.fn(async ({ path }) => ok({ path, originalName: null })),
    shareRecord: vi.fn(async ({ key }) => ok({ url: 'https://s3.example/x', expiresAt: '2024-01-01T00:00:00.000Z', mode: 'direct' as const, password: null, sharedKey: key })),
    ...overrides,
  };
}

const html = join('/opt/MedRelay/resources/app.asar/dist/renderer', 'index.html');
const pageUrl = pathToFileURL(html).href;
const OUR_ID = 7;
const ours = () => [OUR_ID];

function event(over: { id?: number; url?: string; parent?: unknown; noFrame?: boolean } = {}): InvokeEventLike {
  return {
    sender: { id: over.id ?? OUR_ID },
    senderFrame: over.noFrame ? null : { url: over.url ?? pageUrl, parent: over.parent ?? null },
  };
}

class FakeIpcMain implements IpcMainLike<InvokeEventLike> {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, e: InvokeEventLike, ...args: unknown[]): Promise<Result<unknown>> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(h(e, ...args) as Result<unknown>);
  }
}

describe('buildHandlers', () => {
  it('has one handler per name in API_METHODS and a schema for each', () => {
    expect(Object.keys(buildHandlers(fakeApi())).sort()).toEqual([...API_METHODS].sort());
    expect(Object.keys(API_SCHEMAS).sort()).toEqual([...API_METHODS].sort());
  });

  it('passes validated arguments to the agent and returns its Result', async () => {
    const api = fakeApi();
    const handlers = buildHandlers(api);
    expect(await handlers.getStatus([])).toEqual(ok(snapshot));
    expect(await handlers.listDay([{ date: '2024-02-29' }])).toEqual(ok([]));
    expect(api.listDay).toHaveBeenCalledWith({ date: '2024-02-29' });
  });

  it.each([
    ['listDay', [{ date: '2023-02-29' }]],
    ['listDay', [{ date: '24-01-01' }]],
    ['listDay', [{ date: '2024-01-01', extra: 1 }]],
    ['listDay', []],
    ['listDay', ['2024-01-01']],
    ['getStatus', ['unexpected']],
    ['pauseUploads', [{}]],
  ] as const)('refuses %s(%j) as bad-input without calling the agent', async (method, args) => {
    const api = fakeApi();
    const result = await buildHandlers(api)[method](args);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('bad-input');
      expect(result.error.message).toMatch(new RegExp(`^${method}: `));
    }
    expect(api[method]).not.toHaveBeenCalled();
  });

  it('turns a throwing agent method into an internal error Result', async () => {
    const handlers = buildHandlers(fakeApi({ getStatus: async () => { throw new Error('database is locked'); } }));
    expect(await handlers.getStatus([])).toEqual({ ok: false, error: { code: 'internal', message: 'getStatus failed: database is locked' } });
  });

  it('refuses an answer that is not a Result', async () => {
    const handlers = buildHandlers(fakeApi({ getStatus: (async () => snapshot) as unknown as AppApi['getStatus'] }));
    const result = await handlers.getStatus([]);
    expect(result.ok === false && result.error.code).toBe('internal');
  });

  it('sends errors as plain { code, message } data only', async () => {
    const error = Object.assign(new Error('x'), { code: 'network' as const, message: 'store unreachable' });
    const handlers = buildHandlers(fakeApi({ listDay: async () => ({ ok: false, error }) }));
    const result = await handlers.listDay([{ date: '2024-01-01' }]);
    expect(result).toStrictEqual({ ok: false, error: { code: 'network', message: 'store unreachable' } });
  });
});

describe('isTrustedSender', () => {
  const isOurPage = rendererPageMatcher(html);

  it('accepts the top frame of our window showing our page', () => {
    expect(isTrustedSender(event(), ours, isOurPage)).toBe(true);
    expect(isTrustedSender(event({ url: `${pageUrl}#/status` }), ours, isOurPage)).toBe(true);
  });

  it.each([
    ['another web contents', event({ id: 99 })],
    ['a sub-frame', event({ parent: { url: pageUrl } })],
    ['a destroyed or navigated frame', event({ noFrame: true })],
    ['a remote page', event({ url: 'https://example.org/index.html' })],
    ['another local file', event({ url: pathToFileURL('/tmp/index.html').href })],
    ['a malformed URL', event({ url: 'not a url' })],
  ])('refuses %s', (_what, e) => {
    expect(isTrustedSender(e, ours, isOurPage)).toBe(false);
  });
});

describe('bindIpc', () => {
  const trusted = (e: InvokeEventLike) => isTrustedSender(e, ours, rendererPageMatcher(html));

  it("binds 'medrelay:<method>' for exactly the names in API_METHODS", () => {
    const ipc = new FakeIpcMain();
    bindIpc(ipc, buildHandlers(fakeApi()), trusted);
    expect([...ipc.handlers.keys()].sort()).toEqual(API_METHODS.map((m) => `medrelay:${m}`).sort());
  });

  it('answers a trusted call through the handler table', async () => {
    const ipc = new FakeIpcMain();
    const api = fakeApi();
    bindIpc(ipc, buildHandlers(api), trusted);
    expect(await ipc.invoke('medrelay:pauseUploads', event())).toEqual(ok({ ...snapshot, paused: true }));
    expect(await ipc.invoke('medrelay:listDay', event(), { date: '2024-05-01' })).toEqual(ok([]));
    expect(api.listDay).toHaveBeenCalledWith({ date: '2024-05-01' });
  });

  it('refuses an untrusted call with an auth error and never reaches the agent', async () => {
    const ipc = new FakeIpcMain();
    const api = fakeApi();
    bindIpc(ipc, buildHandlers(api), trusted);
    const result = await ipc.invoke('medrelay:pauseUploads', event({ id: 99 }));
    expect(result.ok === false && result.error.code).toBe('auth');
    expect(api.pauseUploads).not.toHaveBeenCalled();
  });

  it('removes every handler it added', () => {
    const ipc = new FakeIpcMain();
    const unbind = bindIpc(ipc, buildHandlers(fakeApi()), trusted);
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });
});

describe('forwardEvents', () => {
  function fakeSource() {
    const listeners = new Map<string, ((payload: unknown) => void)[]>();
    const source = {
      on(event: string, listener: (payload: never) => void) {
        listeners.set(event, [...(listeners.get(event) ?? []), listener as (payload: unknown) => void]);
        return source;
      },
      emit<E extends keyof AppEvents>(event: E, payload: AppEvents[E]) {
        for (const l of listeners.get(event) ?? []) l(payload);
      },
      listeners,
    };
    return source;
  }

  it("sends each AppEvent on 'medrelay:event:<name>' to live windows only", () => {
    const source = fakeSource();
    const live = { isDestroyed: () => false, send: vi.fn() };
    const gone = { isDestroyed: () => true, send: vi.fn() };
    forwardEvents(source satisfies EventSourceLike, () => [live, gone]);
    expect([...source.listeners.keys()].sort()).toEqual(['job', 'status']);

    source.emit('status', snapshot);
    source.emit('job', { jobId: 1, file: 'a.pdf', key: null, state: 'queued' });
    expect(live.send.mock.calls).toEqual([
      ['medrelay:event:status', snapshot],
      ['medrelay:event:job', { jobId: 1, file: 'a.pdf', key: null, state: 'queued' }],
    ]);
    expect(gone.send).not.toHaveBeenCalled();
  });
});
