// The renderer's only way to main: window.medrelay, filled by the preload. Everything else in the
// renderer imports `api` and `onEvent` from here (a lint rule forbids reading window.medrelay
// anywhere else). The client is built from API_METHODS, like the preload and the IPC handlers.
import { API_METHODS, type AppApi, type AppEvents, type MedrelayBridge } from '../src-shared/api.js';
import { fail, type Result } from '../src-shared/result.js';

export type EventName = keyof AppEvents;


declare global {
  interface Window {
    /** Absent when the page is opened outside MedRelay (e.g. in a plain browser). */
    readonly medrelay?: MedrelayBridge;
  }
}

function missingBridge(method: string): Result<never> {
  return fail('internal', `${method} is unavailable: this page was not opened by MedRelay (window.medrelay is missing)`);
}

function buildClient(): AppApi {
  const client: Record<string, (...args: unknown[]) => Promise<Result<unknown>>> = {};
  for (const method of API_METHODS) {
    client[method] = (...args) => {
      const bridge = window.medrelay;
      if (!bridge) return Promise.resolve(missingBridge(method));
      return (bridge[method] as (...a: unknown[]) => Promise<Result<unknown>>)(...args);
    };
  }
  return Object.freeze(client) as unknown as AppApi;
}

export const api: AppApi = buildClient();

/** Listens to a push from main; returns a function that stops listening. */
export function onEvent<E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void {
  const bridge = window.medrelay;
  if (!bridge) return () => undefined;
  return bridge.on(event, listener);
}
