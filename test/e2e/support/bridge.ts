// Binds an AppApi handler table into a Playwright page the way Electron main binds it to IPC:
// the same ipc.ts code (buildHandlers: zod validation and Result wrapping; bindIpc: the sender
// check; forwardEvents: the pushes) over a Playwright binding instead of ipcMain, and the
// preload's own buildBridge in the page (page-bridge.ts). Only the transport differs from Electron.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { AppApi } from '../../../src-shared/api.js';
import type { OnAppEvent } from '../../../src-main/electron/agent-port.js';
import { bindIpc, buildHandlers, forwardEvents, type EventTargetLike, type IpcMainLike } from '../../../src-main/electron/ipc.js';
import { DELIVER_FUNCTION, INVOKE_BINDING } from './names.js';

/** What Playwright passes a binding about its caller (playwright-core's BindingSource). */
interface BindingSourceLike {
  page: Page;
  frame: { url(): string; parentFrame(): unknown };
}

/** What the page needs from main: the API table and its pushes, like Electron's AgentPort. */
export interface ApiSource {
  readonly api: AppApi;
  on: OnAppEvent;
}

let pageScript: Promise<string> | null = null;

/** page-bridge.ts and what it imports (the preload bridge, channels, src-shared) as one script. */
function bundlePageBridge(): Promise<string> {
  pageScript ??= build({
    entryPoints: [fileURLToPath(new URL('./page-bridge.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  }).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('esbuild produced no bundle for test/e2e/support/page-bridge.ts');
    return out.text;
  });
  return pageScript;
}

/** An ipcMain stand-in: handlers by channel, called by the Playwright binding. */
class BindingIpcMain implements IpcMainLike<BindingSourceLike> {
  readonly handlers = new Map<string, (event: BindingSourceLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: BindingSourceLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`a handler for ${channel} is already registered`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

export interface BoundPage {
  /** Removes the handlers and stops forwarding pushes (the page's calls then fail as unanswered). */
  unbind(): void;
}

/**
 * Installs window.medrelay in `page` (for every document it loads from now on), answered by
 * `source.api` and fed by `source`'s events. Calls are accepted only from the page's top frame
 * showing a URL `isOurPage` accepts, as Electron main accepts only its own renderer page.
 * Call before `page.goto`.
 */
export async function bindApiToPage(page: Page, source: ApiSource, isOurPage: (url: string) => boolean): Promise<BoundPage> {
  const ipcMain = new BindingIpcMain();
  const unbindIpc = bindIpc(ipcMain, buildHandlers(source.api), (caller) =>
    caller.page === page && caller.frame.parentFrame() === null && isOurPage(caller.frame.url()));

  await page.exposeBinding(INVOKE_BINDING, (caller: BindingSourceLike, channel: unknown, args: unknown) => {
    const handler = typeof channel === 'string' ? ipcMain.handlers.get(channel) : undefined;
    // What ipcRenderer.invoke does for a channel nobody handles: reject (the bridge makes it a Result).
    if (!handler) throw new Error(`No handler registered for '${String(channel)}'`);
    return handler(caller, ...(Array.isArray(args) ? args : []));
  });

  let bound = true;
  const target: EventTargetLike = {
    isDestroyed: () => page.isClosed(),
    send: (channel, payload) => {
      // A push racing a navigation or the page closing is lost, as it would be in Electron.
      page.evaluate(([fn, c, p]) => {
        const deliver = (globalThis as unknown as Record<string, ((c: unknown, p: unknown) => void) | undefined>)[fn as string];
        deliver?.(c, p);
      }, [DELIVER_FUNCTION, channel, payload] as const).catch(() => undefined);
    },
  };
  forwardEvents(source, () => (bound ? [target] : []));
  await page.addInitScript({ content: await bundlePageBridge() });

  return {
    unbind() {
      bound = false;
      unbindIpc();
    },
  };
}
