// Builds the object the preload exposes as window.medrelay: one function per name in API_METHODS
// (each an ipcRenderer.invoke on 'medrelay:<name>') and `on` for the names in EVENT_NAMES.
// Pure, so it is tested with a fake ipcRenderer; bundled into the sandboxed preload.
import { API_METHODS, EVENT_NAMES, type MedrelayBridge } from '../../src-shared/api.js';
import { fail, type Result } from '../../src-shared/result.js';
import type { EventName } from './agent-port.js';
import { eventChannel, invokeChannel } from './channels.js';

export type { MedrelayBridge };

/** The parts of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

function isEventName(name: unknown): name is EventName {
  return (EVENT_NAMES as readonly unknown[]).includes(name);
}

export function buildBridge(ipc: IpcRendererLike): MedrelayBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    // invoke rejects only when main has no handler (the agent did not start): still a Result.
    bridge[method] = (...args: unknown[]): Promise<Result<unknown>> =>
      (ipc.invoke(invokeChannel(method), ...args) as Promise<Result<unknown>>).catch((err: unknown) =>
        fail('internal', `${method} could not reach MedRelay's main process: ${err instanceof Error ? err.message : String(err)}`));
  }
  bridge.on = (event: unknown, listener: unknown): (() => void) => {
    if (!isEventName(event)) throw new Error(`"${String(event)}" is not a MedRelay event (${EVENT_NAMES.join(', ')})`);
    if (typeof listener !== 'function') throw new Error(`the listener for "${event}" must be a function`);
    // The IpcRendererEvent stays here: it carries the sender, which the page has no business with.
    const relay = (_event: unknown, payload: unknown): void => { listener(payload); };
    ipc.on(eventChannel(event), relay);
    return () => { ipc.removeListener(eventChannel(event), relay); };
  };
  return Object.freeze(bridge) as unknown as MedrelayBridge;
}
