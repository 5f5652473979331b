// PostgreSQL behind the same Kysely interface, for several instances (DATABASE_URL).
//
// Every connection taken from the pool and every query has a deadline (the server's
// `dependencyTimeoutMs`), enforced here through a Dependency (src/dependencies/): a
// PostgreSQL that is down, restarting or frozen makes a request fail within the deadline
// (a 503), never hang, and once it has been found down, requests fail at once until a
// probe finds it back. A connection whose query was abandoned, or which failed, is
// destroyed rather than handed to the next request, which would otherwise queue behind
// the query still in flight on it. The server also cancels statements that outlive the
// deadline (statement_timeout), and ends transactions whose client went away.
import {
  Kysely,
  PostgresDialect,
  sql,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import pg from 'pg';
import { Dependency } from '../dependencies/dependency.ts';
import { postgresUnavailable } from '../dependencies/unavailable.ts';
import type { DatabaseHandle, PostgresDeadlines, QueryObserver } from './handle.ts';
import type { Database } from './schema.ts';

export function openPostgres(
  databaseUrl: string,
  observe?: QueryObserver,
  deadlines?: PostgresDeadlines,
): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    keepAlive: true,
    ...(deadlines
      ? {
          connectionTimeoutMillis: deadlines.timeoutMs,
          statement_timeout: deadlines.timeoutMs,
          idle_in_transaction_session_timeout: Math.max(10_000, deadlines.timeoutMs * 10),
        }
      : {}),
  });
  // An idle pooled connection that the server closes (a restart, a failover, an
  // administrator) is reported on the pool; unhandled, that event would crash the
  // process. The pool has already discarded the connection and opens a new one on
  // demand, and a query in flight still gets its own error.
  pool.on('error', () => undefined);
  const dependency = deadlines
    ? new Dependency({
        name: 'database',
        timeoutMs: deadlines.timeoutMs,
        logger: deadlines.logger,
        isUnavailable: postgresUnavailable,
        probe: async () => void (await pool.query('select 1')),
      })
    : null;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: dependency ? guardedPool(pool, dependency) : pool }),
    ...(observe ? { log: (event) => observe(event.query.sql) } : {}),
  });
  return {
    db,
    dialect: 'postgres',
    file: null,
    externalVersion: null,
    dependency,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      dependency?.close();
      if (!deadlines) return db.destroy();
      // A server that froze never acknowledges the goodbye of an idle connection: not waited for past the deadline.
      let timer: NodeJS.Timeout | undefined;
      const destroyed = db.destroy();
      destroyed.catch(() => undefined);
      try {
        await Promise.race([
          destroyed,
          new Promise(
            (_, reject) =>
              (timer = setTimeout(
                () => reject(new Error(`the connections did not close within ${deadlines.timeoutMs} ms`)),
                deadlines.timeoutMs,
              )),
          ),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The pool as Kysely sees it, every connect and query under the dependency's deadline. */
function guardedPool(pool: pg.Pool, dependency: Dependency): PostgresPool {
  return {
    async connect() {
      const client = await dependency.call(
        () => pool.connect(),
        // Connected after all, too late: back to the pool, where the next request can use it.
        (late) =>
          void late.then(
            (lateClient) => lateClient.release(),
            () => undefined,
          ),
      );
      return guardedClient(client, dependency);
    },
    end: () => pool.end(),
  };
}

function guardedClient(client: pg.PoolClient, dependency: Dependency): PostgresPoolClient {
  let broken: Error | undefined;
  // A connection that dies while it is checked out, between two queries, reports it as an
  // 'error' event on the client, which the pool listens to only while the client is idle:
  // unheard, the event would end the process (it did, in the fault test, when PostgreSQL stopped).
  const onError = (error: Error) => {
    broken = error;
    dependency.markDown(error);
  };
  client.on('error', onError);
  const query = async <R>(text: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
    try {
      return (await dependency.call(() => client.query(text, [...parameters]))) as unknown as PostgresQueryResult<R>;
    } catch (error) {
      // A query that failed for its own reasons leaves the connection usable; any other failure does not.
      if (!(error instanceof Error) || (error as { code?: unknown }).code === undefined || postgresUnavailable(error))
        broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  };
  return {
    query: query as PostgresPoolClient['query'],
    release: () => {
      client.off('error', onError);
      // pg destroys a connection released with an error, instead of pooling it.
      client.release(broken);
    },
  };
}
