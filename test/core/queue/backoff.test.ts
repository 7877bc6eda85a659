import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../src-main/core/queue/backoff.js';

describe('retryDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };
  it('doubles per attempt, with jitter between half and all of the ceiling', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4000);
  });
  it('never waits longer than the maximum, and at least what the server asked', () => {
    expect(retryDelayMs(50, policy, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, policy, () => 0, 30_000)).toBe(30_000);
  });
});
