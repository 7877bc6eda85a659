// Schema migrations in the Signal style: one file per version, versions only go up, a database
// from a newer MedRelay is refused, each step runs in its own transaction and sets user_version.
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new SchemaError(`migration "${m.name}" has version ${m.version}, expected ${i + 1}: versions must be 1, 2, 3… in order`);
    }
  });
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the database to the newest version; returns the versions applied. */
export function migrate(db: Database, migrations: readonly Migration[], file = db.name): number[] {
  checkMigrationList(migrations);
  const current = schemaVersion(db);
  const latest = migrations.length;
  if (current > latest) {
    throw new SchemaError(`database ${file} has schema version ${current}, newer than this MedRelay knows (${latest}); install the newer MedRelay that wrote it`);
  }
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
