import { describe, expect, it } from 'vitest';
import { JOB_STATES } from '../../../src-shared/api.js';
import { checkTransition, TRANSITIONS } from '../../../src-main/core/queue/states.js';

describe('job state machine', () => {
  it('lists every state, and only states, as targets', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...JOB_STATES].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(JOB_STATES).toContain(t);
  });
  it('reaches done only through committed (verification), and nothing leaves done', () => {
    const into = (s: string) => Object.entries(TRANSITIONS).filter(([, t]) => t.includes(s as never)).map(([f]) => f);
    expect(into('done')).toEqual(['committed']);
    expect(TRANSITIONS.done).toEqual([]);
    expect(() => checkTransition(1, 'queued', 'done')).toThrow(/cannot go from queued to done/);
  });
  it('lets a person (or a restart) bring parked jobs back, and a crash put work back in the queue', () => {
    expect(TRANSITIONS['needs-attention']).toEqual(['queued']);
    expect(TRANSITIONS.uploading).toContain('queued');
    expect(TRANSITIONS.committed).toContain('queued');
  });
});
