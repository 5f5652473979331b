// PostgreSQL behind the same Kysely interface, for several instances (DATABASE_URL).
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle, QueryObserver } from './database.ts';
import type { Database } from './schema.ts';

export function openPostgres(databaseUrl: string, observe?: QueryObserver): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // An idle pooled connection that the server closes (a restart, a failover, an
  // administrator) is reported on the pool; unhandled, that event would crash the
  // process. The pool has already discarded the connection and opens a new one on
  // demand, and a query in flight still gets its own error.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(observe ? { log: (event) => observe(event.query.sql) } : {}) });
  return {
    db,
    dialect: 'postgres',
    file: null,
    externalVersion: null,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
