// Decides when a file has stopped changing: its size and mtime unchanged for `windowMs`.
// One timer per file being watched; a change restarts the wait.
import { stat } from 'node:fs/promises';

export interface FileVersion {
  size: number;
  mtimeMs: number;
}

interface Pending {
  version: FileVersion | null;
  since: number;
  timer: NodeJS.Timeout | null;
}

export type StableHandler = (path: string, version: FileVersion, stableForMs: number) => void;

export class StabilityTracker {
  private readonly files = new Map<string, Pending>();
  private stopped = false;

  constructor(
    private readonly windowMs: number,
    private readonly onStable: StableHandler,
    private readonly onVanished: (path: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** A file appeared or changed: (re)start its wait. */
  touch(path: string): void {
    if (this.stopped) return;
    const p = this.files.get(path) ?? { version: null, since: this.now(), timer: null };
    this.files.set(path, p);
    this.schedule(path, p, 0);
  }

  /** Looks at a file again after `delayMs` even if nothing reports a change (incomplete files). */
  recheck(path: string, delayMs: number): void {
    const p = this.files.get(path);
    if (p && !this.stopped) this.schedule(path, p, delayMs);
  }

  forget(path: string): void {
    const p = this.files.get(path);
    if (p?.timer) clearTimeout(p.timer);
    this.files.delete(path);
  }

  get size(): number {
    return this.files.size;
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.files.values()) if (p.timer) clearTimeout(p.timer);
    this.files.clear();
  }

  private schedule(path: string, p: Pending, delayMs: number): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => void this.check(path), delayMs);
    p.timer.unref?.();
  }

  private async check(path: string): Promise<void> {
    const p = this.files.get(path);
    if (!p || this.stopped) return;
    p.timer = null;
    let v: FileVersion;
    try {
      const s = await stat(path);
      if (!s.isFile()) return this.forget(path);
      v = { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
    } catch {
      this.forget(path);
      this.onVanished(path);
      return;
    }
    if (this.files.get(path) !== p) return;
    const t = this.now();
    if (!p.version || p.version.size !== v.size || p.version.mtimeMs !== v.mtimeMs) {
      p.version = v;
      p.since = t;
      this.schedule(path, p, this.windowMs);
      return;
    }
    const stableFor = t - p.since;
    if (stableFor < this.windowMs) return this.schedule(path, p, this.windowMs - stableFor);
    this.onStable(path, v, stableFor);
  }
}
