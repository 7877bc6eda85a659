// The preload exposes window.medrelay with exactly API_METHODS plus `on`, each method an invoke on
// 'medrelay:<name>', and `on` limited to EVENT_NAMES. The electron module is replaced at the edge.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { API_METHODS, EVENT_NAMES } from '../../src-shared/api.js';
import { buildBridge, type IpcRendererLike } from '../../src-main/electron/preload-bridge.js';

type Listener = (event: unknown, ...args: unknown[]) => void;

class FakeIpcRenderer implements IpcRendererLike {
  readonly calls: [string, ...unknown[]][] = [];
  readonly listeners = new Map<string, Listener[]>();
  answer: (channel: string) => Promise<unknown> = async () => ({ ok: true, value: 'answer' });

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.calls.push([channel, ...args]);
    return this.answer(channel);
  }
  on(channel: string, listener: Listener): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  removeListener(channel: string, listener: Listener): this {
    this.listeners.set(channel, (this.listeners.get(channel) ?? []).filter((l) => l !== listener));
    return this;
  }
  push(channel: string, payload: unknown): void {
    for (const l of this.listeners.get(channel) ?? []) l({ sender: 'the IpcRendererEvent' }, payload);
  }
}

const electron = vi.hoisted(() => ({ exposeInMainWorld: vi.fn(), ipcRenderer: {} }));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: electron.exposeInMainWorld },
  ipcRenderer: electron.ipcRenderer,
}));

describe('preload.ts', () => {
  it("exposes 'medrelay' with exactly the API_METHODS and on", async () => {
    await import('../../src-main/electron/preload.js');
    expect(electron.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, exposed] = electron.exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
    expect(key).toBe('medrelay');
    expect(Object.keys(exposed).sort()).toEqual([...API_METHODS, 'on'].sort());
    for (const value of Object.values(exposed)) expect(typeof value).toBe('function');
  });
});

describe('buildBridge', () => {
  let ipc: FakeIpcRenderer;
  beforeEach(() => { ipc = new FakeIpcRenderer(); });

  it("makes each method an invoke on 'medrelay:<name>' with the caller's arguments", async () => {
    const bridge = buildBridge(ipc);
    for (const method of API_METHODS) {
      const fn = bridge[method] as (...args: unknown[]) => Promise<unknown>;
      expect(await fn({ date: '2024-01-02' })).toEqual({ ok: true, value: 'answer' });
    }
    expect(ipc.calls).toEqual(API_METHODS.map((m) => [`medrelay:${m}`, { date: '2024-01-02' }]));
  });

  it('answers with an internal error Result when main has no handler', async () => {
    ipc.answer = () => Promise.reject(new Error("No handler registered for 'medrelay:getStatus'"));
    const result = await buildBridge(ipc).getStatus();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('internal');
      expect(result.error.message).toContain('No handler registered');
    }
  });

  it('delivers pushes of each event name with the payload only, until unsubscribed', () => {
    const bridge = buildBridge(ipc);
    for (const name of EVENT_NAMES) {
      const seen: unknown[] = [];
      const stop = bridge.on(name, (payload) => seen.push(payload));
      ipc.push(`medrelay:event:${name}`, { n: 1 });
      stop();
      ipc.push(`medrelay:event:${name}`, { n: 2 });
      expect(seen).toEqual([{ n: 1 }]);
      expect(ipc.listeners.get(`medrelay:event:${name}`)).toEqual([]);
    }
  });

  it('refuses to subscribe to anything but EVENT_NAMES', () => {
    const bridge = buildBridge(ipc);
    const on = bridge.on as (event: string, listener: unknown) => unknown;
    expect(() => on('medrelay:getStatus', () => undefined)).toThrow(/not a MedRelay event/);
    expect(() => on('status', 'not a function')).toThrow(/must be a function/);
    expect(ipc.listeners.size).toBe(0);
  });

  it('cannot be changed by the page', () => {
    expect(Object.isFrozen(buildBridge(ipc))).toBe(true);
  });
});
