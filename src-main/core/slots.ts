// A fixed number of slots, taken in order of asking: uploads on the wire (queue/runner.ts), parts
// in flight across uploads (store/s3-put.ts).

/**
 * `acquire` waits for a slot, in order of asking, and gives a function that frees it; an aborted
 * wait rejects with an AbortError and takes no slot.
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
