// A file's identity as the file system reports it for an open file: device, inode, size, and mtime
// and ctime in nanoseconds. Intake keeps it with the job, bound to the SHA-256 it computed between
// two fstat calls that agreed, so that the upload can prove the file still holds those bytes without
// hashing it again: every write moves ctime, and user programs cannot set ctime (utimes puts mtime
// back but sets ctime to now). A different identity does not mean other bytes (a chmod, a copy put
// back, a volume mounted elsewhere): the upload then hashes the file, as for jobs queued without one.
import type { BigIntStats } from 'node:fs';

/**
 * How old ctime must be for the identity to vouch for the bytes: a write within the same clock tick
 * as the one before it (a few milliseconds on most systems) would leave ctime as it was. A file that
 * stayed unchanged for the stability window is older than this.
 */
const SETTLED_NS = 1_000_000_000n;

function fields(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** True when two fstat results of one open file show no change between them. */
export function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return fields(a) === fields(b);
}

/** `Math.trunc(mtimeMs)` of the same stat in number form: what jobs and the stability check keep. */
export function mtimeMsOf(s: BigIntStats): number {
  return Math.trunc(Number(s.mtimeNs / 1_000_000_000n) * 1000 + Number(s.mtimeNs % 1_000_000_000n) / 1e6);
}

/**
 * The identity to keep with a job whose file hashed to `sha256` while fstat said `stats` before and
 * after; null when ctime is too recent (or ahead of this clock) to vouch for anything.
 */
export function fileIdentity(sha256: string, stats: BigIntStats, nowMs: number): string | null {
  return stats.ctimeNs <= BigInt(Math.trunc(nowMs)) * 1_000_000n - SETTLED_NS ? `${sha256}:${fields(stats)}` : null;
}

/** Does `identity` prove that the file fstat describes as `stats` holds the bytes that hashed to `sha256`? */
export function vouchesFor(identity: string | null, sha256: string, stats: BigIntStats): boolean {
  return identity !== null && identity === `${sha256}:${fields(stats)}`;
}
