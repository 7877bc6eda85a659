// The main window and the rules every web contents lives by: sandboxed, isolated, no Node, no
// navigation, no new windows, no webviews, no permissions.
import { BrowserWindow, type App, type Session, type WebContents } from 'electron';

export interface WindowFiles {
  /** The bundled preload (dist/src-main/electron/preload.cjs). */
  preload: string;
  /** The built renderer page (dist/renderer/index.html). */
  rendererHtml: string;
  /** Window icon; missing files give an empty icon, not an error. */
  icon: string;
}

export function createMainWindow(files: WindowFiles): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: 'MedRelay',
    icon: files.icon,
    webPreferences: {
      preload: files.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // Middle-click on a link would ask for a new window (denied anyway by lockDown).
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadFile(files.rendererHtml);
  return win;
}

/** The page is a local file that never needs to go anywhere: every navigation attempt is refused. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Call before `app.whenReady()`: applies to every web contents the app will ever create. */
export function hardenApp(app: App): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
}

/** Camera, notifications from the page, USB, serial…: the renderer needs none of them. */
export function denyPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
