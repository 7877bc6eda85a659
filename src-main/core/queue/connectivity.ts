// Knows whether the store can be reached. After a failure that means "no answer at all", uploads
// stop and a single probe retries with backoff, so an offline weekend costs a few requests an
// hour instead of one per job per retry; the first answer brings everything back.
import { EventEmitter } from 'node:events';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';

export class Connectivity extends EventEmitter<{ change: [boolean]; probe: [boolean] }> {
  private state = true;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** Probes made since the store was lost; for status and tests. */
  probes = 0;

  constructor(private readonly probe: () => Promise<boolean>, private readonly policy: BackoffPolicy, private readonly random?: () => number) {
    super();
  }

  get online(): boolean {
    return this.state;
  }

  /** A request got no answer: go offline and start probing. */
  lost(): void {
    if (!this.state) return;
    this.state = false;
    this.failures = 0;
    this.emit('change', false);
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.failures++;
    this.timer = setTimeout(() => void this.tryOnce(), retryDelayMs(this.failures, this.policy, this.random));
    this.timer.unref();
  }

  private async tryOnce(): Promise<void> {
    this.timer = null;
    this.probes++;
    const ok = await this.probe().catch(() => false);
    this.emit('probe', ok);
    if (ok) {
      this.state = true;
      this.emit('change', true);
    } else {
      this.schedule();
    }
  }
}
