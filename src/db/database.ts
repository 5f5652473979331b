// Opens the database the configuration names: the embedded SQLite file by
// default, PostgreSQL when DATABASE_URL is set. Everything above this file talks
// to Kysely and does not know which one it got.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import { startBackgroundCheckpoints, type BackgroundCheckpointOptions } from './background-checkpoints.ts';
import type { DatabaseHandle, PostgresDeadlines, QueryObserver } from './handle.ts';
import type { Database } from './schema.ts';

export type { DatabaseHandle, Dialect, PostgresDeadlines, QueryObserver } from './handle.ts';

/**
 * For the server: `backgroundCheckpoints`, whose SQLite WAL is checkpointed on a worker
 * thread (src/db/background-checkpoints.ts), and `deadlines` on every PostgreSQL call
 * (src/db/postgres.ts). Short-lived commands (and migrations) leave both out.
 */
export async function openDatabase(
  options: { databaseUrl: string | null; dataDir: string },
  observe?: QueryObserver,
  server: { backgroundCheckpoints?: BackgroundCheckpointOptions; deadlines?: PostgresDeadlines } = {},
): Promise<DatabaseHandle> {
  if (options.databaseUrl !== null) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(options.databaseUrl, observe, server.deadlines);
  }
  return openSqlite(path.join(options.dataDir, 'aetherflow.sqlite'), observe, server.backgroundCheckpoints);
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a
 * small indexed query. Statements are cached by their SQL text (which Kysely builds with
 * placeholders, so a query shape is one entry whatever its values). Safe because the
 * driver runs one statement at a time on its one connection and never streams here;
 * SQLite re-prepares a cached statement by itself after a schema change.
 * Queries that read rows answer through `objectRows`.
 */
export function withStatementCache(
  sqlite: SqliteDatabase.Database,
  capacity = 1000,
): Pick<SqliteDatabase.Database, 'prepare' | 'close'> {
  // Query shapes are few: the bound (least recently used out) only holds off a pathological caller.
  const statements = new LRUCache<string, SqliteStatement>({ max: capacity });
  return {
    prepare(source: string) {
      let statement = statements.get(source);
      if (statement === undefined) {
        const prepared = sqlite.prepare(source);
        // `*` anywhere (`select *`, `t.*`, `count(*)`) keeps better-sqlite3's objects: see objectRows.
        statement =
          prepared.reader && !source.includes('*') ? objectRows(prepared, sqlite.prepare(source).raw(true)) : prepared;
        statements.set(source, statement);
      }
      return statement;
    },
    close() {
      return sqlite.close();
    },
  } as unknown as Pick<SqliteDatabase.Database, 'prepare' | 'close'>;
}

/** What Kysely's SQLite driver calls on a statement. */
interface SqliteStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): unknown[];
  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
}

/**
 * The rows of a reading statement as objects, built in JavaScript from better-sqlite3's
 * arrays (raw mode) by a function made for the statement's columns: better-sqlite3 builds
 * each row object natively, one property at a time, which for a page of 20 workflows cost
 * about as much as the rest of the query. The same objects, same keys in the same order.
 * Only for statements that name their columns: the columns of `select *` change when
 * another process migrates the schema, and a statement learns its new columns only when
 * it next runs, too late for a function made beforehand. A statement whose columns
 * repeat a name, or are named `__proto__`, keeps better-sqlite3's objects too.
 */
export function objectRows(plain: SqliteDatabase.Statement, raw: SqliteDatabase.Statement): SqliteStatement {
  const make = rowMaker(raw.columns().map((column) => column.name));
  return {
    reader: true,
    all:
      make === null
        ? (parameters) => plain.all(parameters)
        : (parameters) => (raw.all(parameters) as unknown[][]).map(make),
    run: (parameters) => plain.run(parameters),
    iterate: (parameters) => plain.iterate(parameters),
  };
}

function rowMaker(names: readonly string[]): ((row: unknown[]) => unknown) | null {
  if (new Set(names).size !== names.length || names.includes('__proto__')) return null;
  // One object literal per statement: every row gets the same shape at once. Names are
  // written as JSON string literals, so any column name is inert text.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(
    'row',
    `return {${names.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ')}};`,
  ) as (row: unknown[]) => unknown;
}

/** How long a query waits for SQLite's one connection before it fails instead (see ServerSqliteDriver). */
export const CONNECTION_WAIT_MS = 30_000;

export class ConnectionWaitTimeout extends Error {
  constructor(ms: number) {
    super(
      `A query waited ${ms} ms for the SQLite connection: is a unit of work querying the database outside its own transaction?`,
    );
    this.name = 'ConnectionWaitTimeout';
  }
}

/**
 * Kysely's SQLite driver, with two changes.
 *
 * Transactions begin immediate. Kysely's own begins every transaction with a plain
 * (deferred) `begin`, which takes the write lock only at the first write: a transaction
 * that reads, then writes (a cancel, a revocation, a rotation) failed with
 * SQLITE_BUSY_SNAPSHOT, without waiting, when another process (`npm run admin`) committed
 * in between. Immediate, it takes the lock at once, and another writer waits for it
 * (busy_timeout) instead. Every transaction here writes.
 *
 * A wait for the one connection is bounded. A unit of work holds the connection until it
 * ends, so a query it makes on the database itself rather than through its transaction
 * waits for its own unit: without a bound, that unit, its group (src/db/transaction.ts)
 * and every write after them would wait forever. With it, that query fails after
 * `waitMs`, its unit fails and rolls back, and the others go on. Groups hold the
 * connection for milliseconds, so a legitimate wait is far below the bound.
 */
class ServerSqliteDriver extends SqliteDriver {
  #held = false;
  #waiting = 0;

  constructor(
    config: SqliteDialectConfig,
    private readonly waitMs: number,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // Free and nobody queued: Kysely's mutex hands it over at once, so no timer is armed.
    if (!this.#held && this.#waiting === 0) {
      this.#held = true;
      return super.acquireConnection();
    }
    this.#waiting += 1;
    const acquiring = super.acquireConnection();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionWaitTimeout(this.waitMs)), this.waitMs);
    });
    try {
      const connection = await Promise.race([acquiring, timedOut]);
      this.#waiting -= 1;
      this.#held = true;
      return connection;
    } catch (error) {
      // Still queued in the mutex: when its turn comes, it hands the connection straight back.
      void acquiring
        .then(async () => {
          this.#waiting -= 1;
          await this.releaseConnection();
        })
        .catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  override async releaseConnection(): Promise<void> {
    this.#held = false;
    await super.releaseConnection();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Kysely's SQLite dialect on that driver. */
class ServerSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(
    config: SqliteDialectConfig,
    private readonly waitMs: number,
  ) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ServerSqliteDriver(this.#config, this.waitMs);
  }
}

export function openSqlite(
  file: string,
  observe?: QueryObserver,
  backgroundCheckpoints?: BackgroundCheckpointOptions,
  connectionWaitMs = CONNECTION_WAIT_MS,
): DatabaseHandle {
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL: readers never block the writer. synchronous=NORMAL in WAL mode loses no
  // committed transaction when the process dies (only on power loss), which is the
  // crash we guarantee against; FULL would fsync every commit.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  // Checkpoints (copying the WAL back into the file, with an fsync) run inside the commit
  // that crosses the threshold, so on the request that made it. SQLite's default of 1,000
  // pages meant one every hundred-odd workflow creations; at 10,000 pages (40 MB) they are
  // ten times rarer, and each copies a page written many times over only once. The WAL is
  // cut back to 64 MB after a checkpoint. Durability is unchanged: a commit is in the WAL.
  // With background checkpoints, a worker has copied the pages by then (see there).
  sqlite.pragma('wal_autocheckpoint = 10000');
  sqlite.pragma('journal_size_limit = 67108864');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new ServerSqliteDialect({ database: withStatementCache(sqlite) }, connectionWaitMs),
    ...(observe ? { log: (event) => observe(event.query.sql) } : {}),
  });
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  const checkpoints = backgroundCheckpoints ? startBackgroundCheckpoints(file, backgroundCheckpoints) : null;
  return {
    db,
    dialect: 'sqlite',
    file,
    externalVersion: () => dataVersion.get() as number,
    dependency: null,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      // The worker's connection first: the last connection to close checkpoints the WAL
      // completely and removes it, and that should be this one.
      await checkpoints?.stop();
      await db.destroy();
    },
  };
}
