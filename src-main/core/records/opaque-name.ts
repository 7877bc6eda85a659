// Opaque ids for key templates with {opaque}: some devices put patient names in file names, and
// an object key is cleartext. The id is an HMAC of the record's identity under a random salt kept
// in this workstation's database, so the same file always gets the same key (a retry after a crash
// overwrites nothing new) and nobody without the salt can test a guessed name against it.
import { createHmac, randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import type { Db } from '../db/open.js';
import type { RecordRef } from '../../../src-shared/keys.js';

export function namingSalt(db: Db): Buffer {
  const row = db.prepare(`SELECT value FROM settings WHERE name = 'naming-salt'`).get() as { value: Buffer } | undefined;
  if (row) return row.value;
  const salt = randomBytes(32);
  db.prepare(`INSERT OR IGNORE INTO settings (name, value) VALUES ('naming-salt', ?)`).run(salt);
  return (db.prepare(`SELECT value FROM settings WHERE name = 'naming-salt'`).get() as { value: Buffer }).value;
}

export function opaqueId(salt: Buffer, ref: RecordRef): string {
  const identity = [ref.kind, ref.date, ref.packageName ?? '', ref.fileName].join('\n');
  const ext = extname(ref.fileName).toLowerCase();
  return createHmac('sha256', salt).update(identity).digest('hex').slice(0, 32) + (/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '');
}
