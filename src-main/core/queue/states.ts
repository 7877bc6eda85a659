// The job state machine, explicit. The watcher's own states (detected, stable) live in memory:
// after a restart the start-up scan finds every file again, so persisting them would cost a
// write per file event and buy nothing. From `queued` on, every change is made in a SQLite transaction
// and must be listed here.
//
//   queued ─► uploading ─► committed ─► done (verified in the store) ─► retention action
//      ▲          │  ▲          │
//      │          ▼  │          ▼
//      └──── retry-wait    needs-attention (a person must act) · failed (bad input)
import type { JobState } from '../../../src-shared/api.js';

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  // needs-attention: a conflict found when the job is created.
  queued: ['uploading', 'needs-attention'],
  // queued: parked when MedRelay stops, or after a crash.
  uploading: ['committed', 'retry-wait', 'needs-attention', 'failed', 'queued'],
  // queued: a restart before verification (the upload recognises its own object and verifies).
  committed: ['done', 'retry-wait', 'needs-attention', 'queued'],
  'retry-wait': ['uploading', 'queued', 'needs-attention'],
  done: [],
  // queued: a person acted (retry, restart after fixing credentials), or the file came back.
  'needs-attention': ['queued'],
  failed: ['queued'],
};

export class TransitionError extends Error {
  override name = 'TransitionError';
}

export function checkTransition(jobId: number, from: JobState, to: JobState): void {
  if (from !== to && !TRANSITIONS[from].includes(to)) {
    throw new TransitionError(`job ${jobId} cannot go from ${from} to ${to}`);
  }
}
