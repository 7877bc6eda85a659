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
