// Another process writing the server's SQLite file (what `npm run admin` does beside it):
// a SQLite-only path, so such tests are defined on the SQLite pass only and nothing is
// ever skipped.
import SqliteDatabase from 'better-sqlite3';
import { it } from 'vitest';
import type { TestServer } from './server.ts';
import { testDatabaseUrl } from './services.ts';

export const onSqlite = !testDatabaseUrl;

/** `it`, on the SQLite pass only. */
export const sqliteOnly = (name: string, fn: () => Promise<void>): void => {
  if (onSqlite) it(name, fn);
};

/** Another connection to the server's SQLite file: a second process, as far as SQLite is concerned. */
export function otherConnection(server: TestServer): SqliteDatabase.Database {
  const file = server.server.database.file;
  if (!file) throw new Error('SQLite only');
  const db = new SqliteDatabase(file);
  db.pragma('busy_timeout = 5000');
  return db;
}
