// PostgreSQL behind the same Kysely interface (issue 6 completes scale-out).
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle, QueryObserver } from './database.ts';
import type { Database } from './schema.ts';

export function openPostgres(databaseUrl: string, observe?: QueryObserver): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
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
