// Watches the configured folders with chokidar and hands every file that has stopped changing to
// the intake. Files present at start-up get the same checks as new ones.
import { watch, type FSWatcher } from 'chokidar';
import { basename } from 'node:path';
import { isTemporaryName } from '../records/inspect.js';
import { StabilityTracker, type FileVersion } from './stability.js';
import type { WatchKind } from '../records/inspect.js';

export interface WatchedPath {
  path: string;
  kind: WatchKind;
}

export type StableFileHandler = (path: string, version: FileVersion, folder: WatchedPath, stableForMs: number) => Promise<'done' | { recheckInMs: number }>;

export class FolderWatcher {
  private watcher: FSWatcher | null = null;
  private readonly tracker: StabilityTracker;
  private ready = false;

  constructor(
    private readonly folders: readonly WatchedPath[],
    windowMs: number,
    private readonly onStableFile: StableFileHandler,
    private readonly onError: (error: Error) => void,
  ) {
    this.tracker = new StabilityTracker(windowMs, (path, version, stableFor) => void this.handle(path, version, stableFor));
  }

  private folderOf(path: string): WatchedPath | undefined {
    // The deepest watched folder wins when folders nest.
    return [...this.folders].sort((a, b) => b.path.length - a.path.length)
      .find((f) => path === f.path || path.startsWith(f.path.endsWith('/') ? f.path : `${f.path}/`));
  }

  private async handle(path: string, version: FileVersion, stableFor: number): Promise<void> {
    const folder = this.folderOf(path);
    if (!folder) return;
    try {
      const r = await this.onStableFile(path, version, folder, stableFor);
      if (r !== 'done') this.tracker.recheck(path, r.recheckInMs);
    } catch (e) {
      this.onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Resolves once the initial scan has been handed to the stability checks. */
  async start(): Promise<void> {
    this.watcher = watch(this.folders.map((f) => f.path), {
      ignored: (p: string) => isTemporaryName(basename(p)),
      ignoreInitial: false,
      persistent: true,
    });
    this.watcher.on('add', (p) => this.tracker.touch(p));
    this.watcher.on('change', (p) => this.tracker.touch(p));
    this.watcher.on('unlink', (p) => this.tracker.forget(p));
    this.watcher.on('error', (e) => this.onError(e instanceof Error ? e : new Error(String(e))));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.ready = true;
  }

  get isReady(): boolean {
    return this.ready;
  }

  async stop(): Promise<void> {
    this.tracker.stop();
    await this.watcher?.close();
    this.watcher = null;
  }
}
