// What an open database is to the rest of the server, whichever engine serves it:
// SQLite (src/db/database.ts) or PostgreSQL (src/db/postgres.ts).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Dependency } from '../dependencies/dependency.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The SQLite file, for integrity checks and scans; null on PostgreSQL. */
  file: string | null;
  /**
   * A number that changes whenever another process commits to the database (SQLite's
   * `PRAGMA data_version`; our own writes do not change it): how this process's caches
   * learn of `npm run admin` writing beside it. Null on PostgreSQL.
   */
  externalVersion: (() => number) | null;
  /** PostgreSQL opened with deadlines: what the server knows of its health (src/dependencies/). Null on SQLite, a file beside the process. */
  dependency: Dependency | null;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Sees the SQL of every query (tests that show a request does not touch a table). */
export type QueryObserver = (sql: string) => void;

/** The deadline of every PostgreSQL call, and where an outage is reported. */
export interface PostgresDeadlines {
  timeoutMs: number;
  logger: Logger;
}
