// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads retries
// of many jobs so that a store coming back is not hit by all of them at once.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Delay before attempt `attempt + 1`, given that `attempt` (1-based) just failed. */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random, atLeastMs = 0): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(atLeastMs, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
