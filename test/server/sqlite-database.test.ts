// The embedded SQLite database as src/db/database.ts opens it: the settings, read back
// from SQLite itself (durability: WAL, synchronous=NORMAL, a commit survives the process
// being killed, shown by crash-safety.test.ts; the checkpoint policy that keeps
// checkpoints off most requests), and rows read through the statement cache, which are
// built from better-sqlite3's arrays and must be exactly the objects it would build,
// also after another process changed the schema. The server's checkpoints run on a
// worker thread: shown copying the WAL before the event loop's threshold is reached,
// without disturbing data_version, and closed with the file. Transactions begin immediate.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackgroundCheckpoints, type CheckpointReport } from '../../src/db/background-checkpoints.ts';
import { openSqlite, withStatementCache } from '../../src/db/database.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite file', () => {
  it('is opened in WAL mode, checkpointed every 10,000 pages, its WAL cut back to 64 MB', async () => {
    const file = path.join(dir, 'settings.sqlite');
    const handle = openSqlite(file);
    try {
      const read = async (pragma: string) =>
        Object.values((await sql<Record<string, unknown>>`PRAGMA ${sql.raw(pragma)}`.execute(handle.db)).rows[0]!)[0];
      expect(await read('journal_mode')).toBe('wal');
      expect(await read('synchronous')).toBe(1);
      expect(await read('wal_autocheckpoint')).toBe(10_000);
      expect(await read('journal_size_limit')).toBe(64 * 1024 * 1024);
    } finally {
      await handle.close();
    }
    // WAL mode is a property of the file: another connection (npm run admin) finds it too.
    const other = new SqliteDatabase(file);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
  });
});

describe('rows read through the statement cache', () => {
  const open = (name: string) => {
    const file = path.join(dir, name);
    const sqlite = new SqliteDatabase(file);
    return {
      file,
      sqlite,
      cached: withStatementCache(sqlite) as unknown as {
        prepare(sql: string): { reader: boolean; all(p: unknown[]): unknown[]; run(p: unknown[]): unknown };
      },
    };
  };

  it('are the objects better-sqlite3 builds: same keys, same order, same values and types', () => {
    const { sqlite, cached } = open('rows.sqlite');
    sqlite.exec(`create table t (id text primary key, n integer, r real, b blob, z text, "odd ""name"" here" text);
                 create table u (t_id text, label text)`);
    sqlite.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run('a', 42, 1.5, Buffer.from([1, 2]), null, 'x');
    sqlite.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run('b', -7, 0, null, 'zed', 'y');
    sqlite.prepare('insert into u values (?, ?)').run('a', 'first');
    for (const query of [
      'select id, n, r, b, z, "odd ""name"" here" from t order by id',
      'select * from t order by id',
      'select t.id as key, u.label, t.n * 2 as twice from t left join u on u.t_id = t.id order by t.id',
      // A repeated name: better-sqlite3 keeps the last; so must we.
      'select 1 as a, 2 as a',
      'select 1 as "__proto__"',
      'select * from t where id = ?',
    ]) {
      const parameters = query.includes('?') ? ['b'] : [];
      const expected = sqlite.prepare(query).all(...parameters);
      const statement = cached.prepare(query);
      expect(statement.reader).toBe(true);
      const rows = statement.all(parameters);
      expect(rows, query).toEqual(expected);
      expect(
        rows.map((row) => Object.keys(row as object)),
        query,
      ).toEqual(expected.map((row) => Object.keys(row as object)));
      expect(
        rows.map((row) => Object.getPrototypeOf(row)),
        query,
      ).toEqual(expected.map((row) => Object.getPrototypeOf(row)));
    }
    sqlite.close();
  });

  it('follow a schema changed by another connection: named columns keep their places, "select *" gets the new columns', () => {
    const { file, sqlite, cached } = open('migrated.sqlite');
    sqlite.exec("create table t (id text primary key, a text, b text); insert into t values ('1', 'A', 'B')");
    const named = cached.prepare('select id, b from t');
    const all = cached.prepare('select * from t');
    expect(named.all([])).toEqual([{ id: '1', b: 'B' }]);
    expect(all.all([])).toEqual([{ id: '1', a: 'A', b: 'B' }]);
    // Another process (npm run migrate) drops a column and adds one.
    const other = new SqliteDatabase(file);
    other.exec("alter table t drop column a; alter table t add column c text default 'C'");
    other.close();
    expect(cached.prepare('select id, b from t')).toBe(named);
    expect(named.all([])).toEqual([{ id: '1', b: 'B' }]);
    expect(all.all([])).toEqual([{ id: '1', b: 'B', c: 'C' }]);
    sqlite.close();
  });

  it('leave writes to better-sqlite3', () => {
    const { sqlite, cached } = open('writes.sqlite');
    sqlite.exec('create table t (id integer primary key, v text)');
    const insert = cached.prepare('insert into t (v) values (?)');
    expect(insert.reader).toBe(false);
    expect(insert.run(['x'])).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(cached.prepare('insert into t (v) values (?) returning id, v').all(['y'])).toEqual([{ id: 2, v: 'y' }]);
    sqlite.close();
  });
});

describe('background checkpoints (the server opens its file with them)', () => {
  const until = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('copy the WAL into the file from a worker, leave data_version alone, and close with the file', async () => {
    const file = path.join(dir, 'background.sqlite');
    const reports: CheckpointReport[] = [];
    const errors: Error[] = [];
    const handle = openSqlite(file, undefined, {
      minIntervalMs: 10,
      maxIntervalMs: 40,
      onCheckpoint: (report) => reports.push(report),
      onError: (error) => errors.push(error),
    });
    let closed = false;
    try {
      await sql`create table t (id integer primary key, v text)`.execute(handle.db);
      const version = handle.externalVersion!();
      // ~1,000 commits of a page or two each: far below the event loop's own threshold
      // of 10,000 pages, so whatever gets copied was copied by the worker.
      for (let i = 0; i < 1_000; i++) {
        await sql`insert into t (v) values (${'x'.repeat(1_500)})`.execute(handle.db);
        if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await until(() => reports.some((report) => report.checkpointedPages >= 1_000), 'the worker to copy the commits');
      expect(Math.max(...reports.map((report) => report.walPages))).toBeLessThan(10_000);
      // Its checkpoints are not commits: the caches that watch data_version keep their entries.
      expect(handle.externalVersion!()).toBe(version);
      // And nothing is lost: every row, from this connection and from a fresh one.
      const count = async () =>
        Number((await sql<{ n: number }>`select count(*) as n from t`.execute(handle.db)).rows[0]!.n);
      expect(await count()).toBe(1_000);
      await handle.close();
      closed = true;
      // The last connection to close removes the WAL and its index: none is left open.
      expect(existsSync(`${file}-wal`)).toBe(false);
      expect(existsSync(`${file}-shm`)).toBe(false);
      const fresh = new SqliteDatabase(file, { readonly: true });
      expect(fresh.prepare('select count(*) as n from t').get()).toEqual({ n: 1_000 });
      fresh.close();
      expect(errors).toEqual([]);
    } finally {
      if (!closed) await handle.close();
    }
  });

  it('report a worker that cannot run, and still stop cleanly', async () => {
    const errors: Error[] = [];
    const checkpoints = startBackgroundCheckpoints(path.join(dir, 'missing', 'nothing.sqlite'), {
      onError: (error) => errors.push(error),
    });
    await until(() => errors.length > 0, 'the worker to fail');
    expect(errors[0]!.message).toMatch(/unable to open|does not exist|directory does not exist/i);
    await checkpoints.stop();
  });
});

describe('transactions', () => {
  it('hold the write lock from their start: a write by another process in between waits, and the read-then-write commits', async () => {
    const file = path.join(dir, 'immediate.sqlite');
    const handle = openSqlite(file);
    const other = new SqliteDatabase(file, { timeout: 0 });
    try {
      await sql`create table counters (name text primary key, value integer not null)`.execute(handle.db);
      await sql`insert into counters values ('a', 1)`.execute(handle.db);
      const result = await handle.db.transaction().execute(async (trx) => {
        const read = await sql<{ value: number }>`select value from counters where name = 'a'`.execute(trx);
        // Another connection (another process: npm run admin) tries to commit meanwhile: it has to wait.
        expect(() => other.prepare("update counters set value = 100 where name = 'a'").run()).toThrow(
          /SQLITE_BUSY|database is locked/,
        );
        await sql`update counters set value = ${read.rows[0]!.value + 1} where name = 'a'`.execute(trx);
        return read.rows[0]!.value;
      });
      expect(result).toBe(1);
      expect(other.prepare("select value from counters where name = 'a'").pluck().get()).toBe(2);
      // Once it has committed, the other connection writes as usual.
      other.prepare("update counters set value = 3 where name = 'a'").run();
    } finally {
      other.close();
      await handle.close();
    }
  });
});
