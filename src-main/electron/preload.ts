// The preload of every MedRelay window: exposes window.medrelay, built from API_METHODS and
// EVENT_NAMES. Bundled by scripts/build-bundles.mjs to preload.cjs (a sandboxed preload cannot
// load local files), so it may import only electron, src-shared and pure files of this folder.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY } from './channels.js';
import { buildBridge } from './preload-bridge.js';

contextBridge.exposeInMainWorld(BRIDGE_KEY, buildBridge(ipcRenderer));
