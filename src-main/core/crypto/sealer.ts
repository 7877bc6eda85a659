// Encrypts small records on a worker thread. Reading, hashing and encrypting a 200 KB report costs
// the main thread about a millisecond, and the main thread is what limits a backlog of small files
// (it also runs the S3 client, SQLite and the watcher); with the worker, the two cores each take a
// share. Large records stream through the main thread's pipeline (payload.ts) as before.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyringSpec } from './keyrings.js';

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
}

export type SealReply =
  | { id: number; result: 'sealed'; ciphertext: ArrayBuffer; sha256: string }
  /** The file is not the one that was queued (size, time or hash). */
  | { id: number; result: 'changed' }
  /** The worker could not read it the quick way: do it on the main thread. */
  | { id: number; result: 'fallback' }
  | { id: number; result: 'error'; message: string };

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

  seal(req: Omit<SealRequest, 'id'>): Promise<SealReply> {
    if (this.broken) return Promise.resolve({ id: -1, result: 'fallback' });
    const id = ++this.next;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      // Ref'd while a request is out, so the process waits for its answer.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...req, id } satisfies SealRequest);
    }).finally(() => { if (this.pending.size === 0) this.workerThread?.unref(); }) as Promise<SealReply>;
  }

  async close(): Promise<void> {
    this.broken ??= 'closed';
    await this.workerThread?.terminate();
  }
}
