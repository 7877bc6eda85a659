import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../../src-main/core/db/migrate.js';
import { MIGRATIONS } from '../../../../src-main/core/db/migrations/index.js';

describe('migration 0006-claim-index', () => {
  it('lets the queue find the oldest queued jobs through an index', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 5));
    expect(migrate(db, MIGRATIONS.slice(0, 6))).toEqual([6]);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 4`).all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX jobs_state_id/);
  });
});
