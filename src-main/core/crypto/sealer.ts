// Encrypts small records on a worker thread. Reading, hashing and encrypting a 200 KB report costs
// the main thread about a millisecond, and the main thread is what limits a backlog of small files
// (it also runs the S3 client, SQLite and the watcher); with the worker, the two cores each take a
// share. Large records stream through the main thread's pipeline (payload.ts) as before.
//
// The ciphertext comes back in a slot of shared memory that both threads keep, so that no buffer is
// allocated, copied across or collected per record: each 200 KB buffer a thread allocates and drops
// counts towards its next full garbage collection, and those were about a fifth of the process's
// CPU with a backlog of small files. A slot is the caller's until it gives it back (`release`),
// after the upload that reads it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyringSpec } from './keyrings.js';

/** Room for the ciphertext of the largest record the worker takes (file-bytes.ts) plus a name header and the message's overhead. */
export const SLOT_BYTES = 1024 * 1024 + 256 * 1024;

export interface SealRequest {
  id: number;
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  /** The file identity intake recorded with that hash (queue/file-identity.ts), if any. */
  identity: string | null;
  context: Record<string, string>;
  /** The name header to put before the file (esdk2-named), if any. */
  header: Uint8Array | null;
  /** The slot to write the ciphertext into; its memory comes along the first time the worker sees it. */
  slot: number;
  slotMemory?: SharedArrayBuffer;
}

export type SealReply =
  | { id: number; result: 'sealed'; length: number; sha256: string }
  /** The file is not the one that was queued (size, time or hash). */
  | { id: number; result: 'changed' }
  /** The worker could not do it the quick way (too large for a slot, unreadable, gone): do it on the main thread. */
  | { id: number; result: 'fallback' }
  | { id: number; result: 'error'; message: string };

/** What `seal` answers: for 'sealed', the ciphertext, valid until `release()`. */
export type Sealed =
  | { result: 'sealed'; ciphertext: Buffer; sha256: string; release: () => void }
  | { result: 'changed' }
  | { result: 'fallback' }
  | { result: 'error'; message: string };

/** The worker's file: beside this module (tsc output), or beside the bundled command (dist/). */
function workerFile(): URL | null {
  for (const name of ['./seal-worker.js', './seal-worker.mjs']) {
    const url = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return null;
}

export class Sealer {
  private workerThread: Worker | null = null;
  private readonly pending = new Map<number, (reply: SealReply) => void>();
  private next = 0;
  private broken: string | null = null;
  /** Every slot made so far (as many as records were ever out at once), and those free now. */
  private readonly slots: Buffer[] = [];
  private readonly freeSlots: number[] = [];

  private constructor(private readonly file: URL, private readonly specs: KeyringSpec[]) {}

  /** Started on the first request: a run of large files only never pays for the thread's memory. */
  private get worker(): Worker {
    if (this.workerThread) return this.workerThread;
    const worker = new Worker(this.file, { workerData: { specs: this.specs } });
    this.workerThread = worker;
    // An idle worker must not keep a one-shot run alive.
    worker.unref();
    worker.on('message', (reply: SealReply) => {
      const done = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      done?.(reply);
    });
    const fail = (why: string) => {
      this.broken ??= why;
      for (const done of this.pending.values()) done({ id: -1, result: 'fallback' });
      this.pending.clear();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`sealing worker exited with code ${code}`));
    return worker;
  }

  /** A sealer, or null when the worker file is missing (the main thread then encrypts). */
  static start(specs: KeyringSpec[], file: URL | null = workerFile()): Sealer | null {
    return file ? new Sealer(file, specs) : null;
  }

  /** Why the worker stopped working, if it did (requests then fall back to the main thread). */
  get failure(): string | null {
    return this.broken;
  }

  /**
   * Starts the worker now rather than at the first record (it takes about 150 ms to load), when the
   * caller knows small records are coming and has time to spare, such as a stability wait.
   */
  warm(): void {
    if (!this.broken) void this.worker;
  }

  /** Whether the worker thread has been started. */
  get started(): boolean {
    return this.workerThread !== null;
  }

  /** Slots made so far (each SLOT_BYTES of shared memory). */
  get slotCount(): number {
    return this.slots.length;
  }

  async seal(req: Omit<SealRequest, 'id' | 'slot' | 'slotMemory'>): Promise<Sealed> {
    if (this.broken) return { result: 'fallback' };
    const id = ++this.next;
    let slot = this.freeSlots.pop();
    let slotMemory: SharedArrayBuffer | undefined;
    if (slot === undefined) {
      slotMemory = new SharedArrayBuffer(SLOT_BYTES);
      slot = this.slots.push(Buffer.from(slotMemory)) - 1;
    }
    const reply = await new Promise<SealReply>((resolve) => {
      this.pending.set(id, resolve);
      // Ref'd while a request is out, so the process waits for its answer.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...req, id, slot, ...(slotMemory ? { slotMemory } : {}) } satisfies SealRequest);
    }).finally(() => { if (this.pending.size === 0) this.workerThread?.unref(); });
    if (reply.result !== 'sealed') {
      this.freeSlots.push(slot);
      if (reply.result === 'error') return { result: 'error', message: reply.message };
      return reply.result === 'changed' ? { result: 'changed' } : { result: 'fallback' };
    }
    let released = false;
    return {
      result: 'sealed', ciphertext: this.slots[slot]!.subarray(0, reply.length), sha256: reply.sha256,
      release: () => { if (!released) { released = true; this.freeSlots.push(slot); } },
    };
  }

  async close(): Promise<void> {
    this.broken ??= 'closed';
    await this.workerThread?.terminate();
  }
}
