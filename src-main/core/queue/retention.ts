// The local retention policy: once a record is verified in the store (and `afterDays` have
// passed), its source file is kept, moved to an archive folder, or deleted. A file that changed
// since it was uploaded is never touched: it is a new version the watcher will take.
import { mkdir, rename, rm, stat, copyFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { JobRepository } from './jobs.js';

export class Retention {
  constructor(
    private readonly jobs: JobRepository,
    private readonly policy: Config['retention'],
    private readonly watchRoots: readonly string[],
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies the policy to every verified job that is due; returns how many files it moved or deleted. */
  async run(): Promise<number> {
    if (this.policy.action === 'keep') return 0;
    let n = 0;
    for (const job of this.jobs.dueForRetention(this.now() - this.policy.afterDays * 86_400_000)) {
      const s = await stat(job.sourcePath).catch(() => null);
      if (!s || s.size !== job.size || Math.trunc(s.mtimeMs) !== job.mtimeMs) {
        this.jobs.markRetained(job.id, this.now());
        continue;
      }
      try {
        if (this.policy.action === 'delete') {
          await rm(job.sourcePath);
        } else {
          const target = this.archivePath(job.sourcePath);
          await mkdir(dirname(target), { recursive: true });
          await rename(job.sourcePath, target).catch(async (e: NodeJS.ErrnoException) => {
            if (e.code !== 'EXDEV') throw e;
            await copyFile(job.sourcePath, target);
            await rm(job.sourcePath);
          });
        }
        this.jobs.markRetained(job.id, this.now());
        n++;
      } catch (e) {
        this.log.warn(`retention (${this.policy.action}) of ${job.sourcePath} failed: ${(e as Error).message}`);
      }
    }
    return n;
  }

  private archivePath(source: string): string {
    const root = this.watchRoots.find((r) => source.startsWith(r.endsWith(sep) ? r : r + sep));
    const rel = root ? relative(root, source) : source.replace(/^[/\\]+/, '');
    return join(this.policy.archiveDir!, rel);
  }
}
