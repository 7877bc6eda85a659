// The tray icon: green while all is well, another picture when paused or when a record needs a
// person, and a menu to open the window, pause or resume, and quit.
import { Menu, Tray, nativeImage } from 'electron';
import { join } from 'node:path';
import type { StatusSnapshot } from '../../src-shared/api.js';

export type TrayState = 'ok' | 'paused' | 'attention';

/** Pure: which picture a snapshot deserves. Problems outrank a pause. */
export function trayState(status: StatusSnapshot | null): TrayState {
  if (!status) return 'ok';
  if (status.counts['needs-attention'] > 0 || status.counts.failed > 0) return 'attention';
  return status.paused ? 'paused' : 'ok';
}

const TOOLTIP: Record<TrayState, string> = {
  ok: 'MedRelay: uploading',
  paused: 'MedRelay: uploads paused',
  attention: 'MedRelay: a record needs attention',
};

export interface TrayActions {
  open(): void;
  setPaused(paused: boolean): void;
  quit(): void;
}

export interface AppTray {
  update(status: StatusSnapshot): void;
  /** What the tray shows now (read by the Electron smoke test). */
  shown(): { state: TrayState; paused: boolean };
  destroy(): void;
}

/** `assetsDir` holds tray-ok.png, tray-paused.png and tray-attention.png. */
export function createTray(assetsDir: string, actions: TrayActions): AppTray {
  const icon = (state: TrayState) => nativeImage.createFromPath(join(assetsDir, `tray-${state}.png`));
  const tray = new Tray(icon('ok'));
  let shown: { state: TrayState; paused: boolean } | null = null;

  const render = (state: TrayState, paused: boolean) => {
    if (shown && shown.state === state && shown.paused === paused) return;
    shown = { state, paused };
    tray.setImage(icon(state));
    tray.setToolTip(TOOLTIP[state]);
    tray.setContextMenu(Menu.buildFromTemplate([
      { label: 'Open MedRelay', click: () => actions.open() },
      { label: paused ? 'Resume uploads' : 'Pause uploads', click: () => actions.setPaused(!paused) },
      { type: 'separator' },
      { label: 'Quit MedRelay', click: () => actions.quit() },
    ]));
  };
  render('ok', false);
  tray.on('click', () => actions.open());

  return {
    update: (status) => render(trayState(status), status.paused),
    shown: () => ({ state: shown?.state ?? 'ok', paused: shown?.paused ?? false }),
    destroy: () => tray.destroy(),
  };
}
