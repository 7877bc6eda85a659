// An average upload rate limit shared by all uploads: each request waits for its bytes' worth of
// tokens before it starts. Coarse (per request or part), which keeps bodies in memory as buffers.
export class TokenBucket {
  private available: number;
  private last = Date.now();

  constructor(private readonly bytesPerSecond: number) {
    this.available = bytesPerSecond;
  }

  async take(bytes: number): Promise<void> {
    if (bytes <= 0) return;
    for (;;) {
      const now = Date.now();
      this.available = Math.min(this.bytesPerSecond, this.available + ((now - this.last) / 1000) * this.bytesPerSecond);
      this.last = now;
      if (this.available >= Math.min(bytes, this.bytesPerSecond)) {
        this.available -= bytes;
        return;
      }
      const wait = ((Math.min(bytes, this.bytesPerSecond) - this.available) / this.bytesPerSecond) * 1000;
      await new Promise((r) => setTimeout(r, Math.ceil(wait)));
    }
  }
}

/**
 * A fixed number of slots (the uploads allowed on the wire at once). `acquire` waits for one, in
 * order of asking, and gives a function that frees it; an aborted wait rejects with an AbortError
 * and takes no slot.
 */
export class Slots {
  private free: number;
  private readonly waiting: { grant: (release: () => void) => void; signal?: AbortSignal | undefined }[] = [];

  constructor(count: number) {
    this.free = count;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = { grant: resolve, signal };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(abortError());
        }
      }, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant(this.releaser());
      else this.free++;
    };
  }
}

function abortError(): Error {
  return Object.assign(new Error('stopped while waiting to upload'), { name: 'AbortError' });
}
