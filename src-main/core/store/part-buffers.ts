// Memory for multipart parts sent from memory: at most `count` buffers of `size` bytes, shared by
// every upload and reused part after part, so the memory parts take is count × size whatever the
// files, the uploads and their parts in flight, and a part leaves no garbage behind. Buffers that
// nobody took for a second are let go.
export class PartBuffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;
  private idle: NodeJS.Timeout | null = null;

  constructor(readonly size: number, readonly count: number) {
    if (!(count >= 1 && size >= 1)) throw new RangeError(`part buffers: expected at least one buffer of at least one byte, got ${count} × ${size}`);
  }

  /** A buffer of `size` bytes, once one is free; give it back with give(). */
  take(): Promise<Buffer> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const b = this.free.pop() ?? (this.made < this.count ? (this.made++, Buffer.allocUnsafeSlow(this.size)) : undefined);
    return b ? Promise.resolve(b) : new Promise((resolve) => this.waiting.push(resolve));
  }

  give(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) return next(b);
    this.free.push(b);
    if (this.free.length < this.made) return;
    this.idle = setTimeout(() => {
      this.made -= this.free.length;
      this.free.length = 0;
      this.idle = null;
    }, 1000);
    this.idle.unref();
  }
}
