// Runs in the page, before the renderer's own scripts (bundled by bridge.ts into an init script).
// window.medrelay is built by the preload's own buildBridge over an ipcRenderer stand-in whose
// invoke is a Playwright binding and whose pushes arrive from Node through DELIVER_FUNCTION: the
// page sees exactly what the Electron preload gives it, and nothing of Node.
import { BRIDGE_KEY } from '../../../src-main/electron/channels.js';
import { buildBridge, type IpcRendererLike } from '../../../src-main/electron/preload-bridge.js';
import { DELIVER_FUNCTION, INVOKE_BINDING } from './names.js';

type Listener = (event: unknown, ...args: unknown[]) => void;
type Invoke = (channel: string, args: unknown[]) => Promise<unknown>;

const page = globalThis as unknown as Record<string, unknown>;
const listeners = new Map<string, Set<Listener>>();

const ipcRenderer: IpcRendererLike = {
  // Looked up at call time: Playwright defines the binding's page function on its own schedule.
  invoke: (channel, ...args) => (page[INVOKE_BINDING] as Invoke)(channel, args),
  on(channel, listener) {
    const set = listeners.get(channel) ?? new Set<Listener>();
    set.add(listener);
    listeners.set(channel, set);
  },
  removeListener(channel, listener) {
    listeners.get(channel)?.delete(listener);
  },
};

Object.defineProperty(page, DELIVER_FUNCTION, {
  value: (channel: string, payload: unknown) => {
    // Like Electron's IpcRendererEvent, the first argument is the event; the bridge drops it.
    for (const listener of [...(listeners.get(channel) ?? [])]) listener({}, payload);
  },
});
Object.defineProperty(page, BRIDGE_KEY, { value: buildBridge(ipcRenderer), enumerable: true });
