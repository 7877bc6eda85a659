// Version 3: small per-workstation values that must survive restarts, such as the salt that
// turns file names into opaque key ids (core/records/opaque-name.ts).
import type { Migration } from '../migrate.js';

export const m0003Settings: Migration = {
  version: 3,
  name: 'settings',
  up(db) {
    db.exec(`CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;`);
  },
};
