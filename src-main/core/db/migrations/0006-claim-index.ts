// Version 6: an index for claiming queued jobs in order, so a backlog of 100,000 jobs costs a
// lookup per claim, not a scan.
import type { Migration } from '../migrate.js';

export const m0006ClaimIndex: Migration = {
  version: 6,
  name: 'claim-index',
  up(db) {
    db.exec('CREATE INDEX jobs_state_id ON jobs (state, id);');
  },
};
