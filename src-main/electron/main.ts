// Electron main: one instance per user, the core agent behind IPC, one window that hides to the
// tray when closed, and a clean stop of the agent on quit. Everything that can be tested without
// Electron lives in ipc.ts, preload-bridge.ts and tray.ts (trayState).
import { BrowserWindow, Notification, app, dialog, ipcMain, session } from 'electron';
import { join } from 'node:path';
import { createAgent } from '../core/agent.js';
import type { JobEvent } from '../../src-shared/api.js';
import type { AgentPort, CreateAgent } from './agent-port.js';
import { bindIpc, buildHandlers, forwardEvents, isTrustedSender, rendererPageMatcher } from './ipc.js';
import { createTray, type AppTray } from './tray.js';
import { createMainWindow, denyPermissions, hardenApp } from './window.js';

/** core/agent.ts must fit the port this shell is written against (see agent-port.ts). */
const makeAgent: CreateAgent = createAgent;

// main.js sits in dist/src-main/electron/; the renderer build in dist/renderer/.
const here = import.meta.dirname;
const FILES = {
  preload: join(here, 'preload.cjs'),
  rendererHtml: join(here, '..', '..', 'renderer', 'index.html'),
  assets: app.isPackaged ? join(process.resourcesPath, 'assets') : join(here, '..', '..', '..', 'assets'),
};

let mainWindow: BrowserWindow | null = null;
let tray: AppTray | null = null;
let quitting = false;

function showWindow(): void {
  if (!app.isReady()) return;
  if (!mainWindow || mainWindow.isDestroyed()) {
    mainWindow = createMainWindow({ ...FILES, icon: join(FILES.assets, 'icon.png') });
    mainWindow.on('close', (event) => {
      // Closing hides to the tray; only Quit (tray menu, OS shutdown, installer) stops uploads.
      if (!quitting) {
        event.preventDefault();
        mainWindow?.hide();
      }
    });
    mainWindow.on('closed', () => { mainWindow = null; });
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function ourWindows(): BrowserWindow[] {
  return mainWindow && !mainWindow.isDestroyed() ? [mainWindow] : [];
}

/** No PHI: the notification says that something needs a person, never which patient. */
function notifyIfNeeded(event: JobEvent): void {
  if (event.state !== 'needs-attention' && event.state !== 'failed') return;
  if (!Notification.isSupported()) return;
  const note = new Notification({
    title: 'MedRelay needs attention',
    body: 'A record could not be uploaded. Open MedRelay to see why.',
  });
  note.on('click', showWindow);
  note.show();
}

function wireAgent(agent: AgentPort): () => void {
  const isOurPage = rendererPageMatcher(FILES.rendererHtml);
  const unbind = bindIpc(ipcMain, buildHandlers(agent.api), (event) =>
    isTrustedSender(event, () => ourWindows().map((w) => w.webContents.id), isOurPage));
  forwardEvents(agent, () => ourWindows().map((w) => w.webContents));
  agent.on('status', (status) => tray?.update(status));
  agent.on('job', notifyIfNeeded);
  return unbind;
}

function stopOnQuit(agent: AgentPort, unbind: () => void): void {
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    agent.stop()
      .catch((err: unknown) => console.error('MedRelay: the agent did not stop cleanly:', err))
      .finally(() => {
        stopped = true;
        unbind();
        tray?.destroy();
        app.quit();
      });
  });
}

async function run(): Promise<void> {
  hardenApp(app);
  app.on('before-quit', () => { quitting = true; });
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  // The window hides instead of closing, but keep running in the tray whatever happens to it.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  denyPermissions(session.defaultSession);

  const agent = await makeAgent({ dataDir: app.getPath('userData'), logDir: app.getPath('logs') });
  const unbind = wireAgent(agent);
  stopOnQuit(agent, unbind);
  tray = createTray(FILES.assets, {
    open: showWindow,
    setPaused: (paused) => void (paused ? agent.api.pauseUploads() : agent.api.resumeUploads())
      .then((result) => { if (result.ok) tray?.update(result.value); }),
    quit: () => app.quit(),
  });
  // test/e2e-electron/smoke.test.ts reads the tray through this (Playwright's electronApp.evaluate).
  if (process.env.MEDRELAY_TEST_HOOKS === '1') Object.assign(globalThis, { [Symbol.for('medrelay.test.tray')]: tray });
  await agent.start();

  // Started at login by the installer with --hidden: technicians never need to see the window.
  if (!process.argv.includes('--hidden')) showWindow();
}

if (app.requestSingleInstanceLock()) {
  run().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    dialog.showErrorBox('MedRelay could not start', message);
    app.exit(1);
  });
} else {
  // Another MedRelay is running for this user; it gets 'second-instance' and shows its window.
  app.quit();
}
