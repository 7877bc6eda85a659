// Version 7: the identity of a job's file as intake hashed it (device, inode, size, mtime and ctime
// in nanoseconds, bound to its SHA-256; see core/queue/file-identity.ts), so that the upload can
// prove the file unchanged without hashing it again. Jobs from older versions have none and are
// hashed again at upload, as before.
import type { Migration } from '../migrate.js';

export const m0007FileIdentity: Migration = {
  version: 7,
  name: 'file-identity',
  up(db) {
    db.exec('ALTER TABLE jobs ADD COLUMN file_identity TEXT;');
  },
};
