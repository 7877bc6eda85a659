// Names shared by the Node side of the harness (bridge.ts) and the page side (page-bridge.ts).
// Kept in their own file so the page bundle pulls nothing else from Node.

/** The Playwright binding the page's fake ipcRenderer.invoke calls: (channel, args) → Result. */
export const INVOKE_BINDING = '__medrelayE2eInvoke';
/** The page function Node calls to deliver a push: (channel, payload). */
export const DELIVER_FUNCTION = '__medrelayE2eDeliver';
