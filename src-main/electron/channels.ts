// IPC channel names and the window global, shared by the preload and the main-side handlers.
// Pure: bundled into the sandboxed preload.
import type { ApiMethod, AppEvents } from '../../src-shared/api.js';

/** The property of `window` that the preload fills; src-renderer/api.ts reads it. */
export const BRIDGE_KEY = 'medrelay';

export function invokeChannel(method: ApiMethod): `medrelay:${ApiMethod}` {
  return `medrelay:${method}`;
}

export function eventChannel(event: keyof AppEvents): `medrelay:event:${keyof AppEvents}` {
  return `medrelay:event:${event}`;
}
