// Group commit (src/db/transaction.ts, groupCommitOn): on SQLite, the units of work begun
// in the same turn run in one transaction, each in a savepoint, and share its commit.
// Shown on a real SQLite file opened as the server opens it, with the statements it
// receives observed: a group is one begin and one commit; the units run in order and each
// sees the ones before it; a failing unit leaves nothing and takes nothing of the others
// with it; nothing settles, and no afterCommit action runs, before the commit (another
// connection already sees the rows when the actions run); a failed commit fails every
// unit and leaves nothing; units begun while a group runs form the next group; a unit that
// queries the database outside its transaction fails after a bounded wait instead of
// holding every write forever, and a shorter wait is not cut. Then over
// HTTP: concurrent workflow creations, some of them refused by the database, each
// answered for itself and kept or not (on PostgreSQL, in CI's second pass, units commit
// one by one and the test shows the same answers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectionWaitTimeout, openSqlite, type DatabaseHandle } from '../../src/db/database.ts';
import { groupCommitOn, type Transaction, type Tx } from '../../src/db/transaction.ts';
import { useTestServer, type AnyAnswer } from '../support/api.ts';
import { definition, expectError, listAtOnce } from './resource-helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Opened {
  handle: DatabaseHandle;
  statements: string[];
  transaction: Transaction;
  /** Another connection to the file: what it sees is committed. */
  other: SqliteDatabase.Database;
  close(): Promise<void>;
}

async function open(name: string, connectionWaitMs?: number): Promise<Opened> {
  const statements: string[] = [];
  const file = path.join(dir, `${name}.sqlite`);
  const handle = openSqlite(file, (text) => statements.push(text), undefined, connectionWaitMs);
  await sql`create table parents (id text primary key)`.execute(handle.db);
  await sql`create table items (id text primary key, parent_id text references parents (id))`.execute(handle.db);
  const other = new SqliteDatabase(file);
  statements.length = 0;
  return {
    handle,
    statements,
    transaction: groupCommitOn(handle.db),
    other,
    async close() {
      other.close();
      await handle.close();
    },
  };
}

const insert = (tx: Tx, id: string) => sql`insert into items (id) values (${id})`.execute(tx.trx);
const count = async (tx: Tx) =>
  Number((await sql<{ n: number }>`select count(*) as n from items`.execute(tx.trx)).rows[0]!.n);
const committed = (db: Opened) => db.other.prepare('select id from items order by id').pluck().all() as string[];
const begins = (db: Opened) => db.statements.filter((text) => /^begin/i.test(text)).length;
const commits = (db: Opened) => db.statements.filter((text) => /^commit/i.test(text)).length;

describe('group commit on SQLite', () => {
  it('runs the units begun together in one transaction, in order, each seeing the ones before it', async () => {
    const db = await open('together');
    try {
      const seen = await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((id) =>
          db.transaction(async (tx) => {
            await insert(tx, id);
            return count(tx);
          }),
        ),
      );
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(committed(db)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(begins(db)).toBe(1);
      expect(commits(db)).toBe(1);
      expect(db.statements.filter((text) => /^savepoint/i.test(text))).toHaveLength(5);
    } finally {
      await db.close();
    }
  });

  it('rolls a failing unit back alone, and runs afterCommit actions only once the rows are committed', async () => {
    const db = await open('failing');
    const ran: string[] = [];
    try {
      const unit = (id: string, fail: boolean) =>
        db.transaction(async (tx) => {
          await insert(tx, id);
          tx.afterCommit(() => {
            // Another connection sees the unit's row by now: the actions wait for the commit.
            ran.push(`${id}:${committed(db).join(',')}`);
          });
          if (fail) throw new Error(`unit ${id} refused`);
          return id;
        });
      const outcomes = await Promise.allSettled([unit('a', false), unit('b', true), unit('c', false)]);
      expect(
        outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
      ).toEqual(['a', 'unit b refused', 'c']);
      expect(committed(db)).toEqual(['a', 'c']);
      expect(ran).toEqual(['a:a,c', 'c:a,c']);
      expect(commits(db)).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('fails every unit of a group whose commit fails, leaving nothing and running no action', async () => {
    const db = await open('commit-fails');
    const ran: string[] = [];
    try {
      const unit = (id: string, orphan: boolean) =>
        db.transaction(async (tx) => {
          tx.afterCommit(() => void ran.push(id));
          if (!orphan) return insert(tx, id);
          // A foreign key checked at the commit, not at the insert: the commit itself fails.
          await sql`PRAGMA defer_foreign_keys = ON`.execute(tx.trx);
          return sql`insert into items (id, parent_id) values (${id}, 'no-such-parent')`.execute(tx.trx);
        });
      const outcomes = await Promise.allSettled([unit('a', false), unit('b', true), unit('c', false)]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
      }
      expect(committed(db)).toEqual([]);
      expect(ran).toEqual([]);
      // The connection is usable afterwards.
      await db.transaction((tx) => insert(tx, 'd'));
      expect(committed(db)).toEqual(['d']);
    } finally {
      await db.close();
    }
  });

  it('gathers the units begun while a group runs into the next group', async () => {
    const db = await open('next-group');
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const first = db.transaction(async (tx) => {
        await insert(tx, 'a');
        await held;
      });
      // Let the first group begin, then start two more units while it is held open.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(begins(db)).toBe(1);
      const later = [db.transaction((tx) => insert(tx, 'b')), db.transaction((tx) => insert(tx, 'c'))];
      await new Promise((resolve) => setTimeout(resolve, 20));
      // They wait: nothing of them is written before the first group ends.
      expect(committed(db)).toEqual([]);
      release();
      await Promise.all([first, ...later]);
      expect(committed(db)).toEqual(['a', 'b', 'c']);
      expect(begins(db)).toBe(2);
      expect(commits(db)).toBe(2);
    } finally {
      await db.close();
    }
  });

  // A unit holds the one connection until its group ends: a query it makes on the database
  // itself, not through its transaction, waits for its own unit. Without a bound on that
  // wait, this test never ends.
  it(
    'fails a unit that queries the database outside its transaction after a bounded wait, alone; the connection is free again after it',
    { timeout: 10_000 },
    async () => {
      const db = await open('outside', 300);
      try {
        const outcomes = await Promise.allSettled([
          db.transaction((tx) => insert(tx, 'a')),
          db.transaction(async (tx) => {
            await insert(tx, 'b');
            await sql`select count(*) from items`.execute(db.handle.db);
          }),
          db.transaction((tx) => insert(tx, 'c')),
        ]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConnectionWaitTimeout);
        expect(committed(db)).toEqual(['a', 'c']);
        // Nothing is left holding the connection: the database and a new unit both work.
        await db.transaction((tx) => insert(tx, 'd'));
        const { rows } = await sql<{ n: number }>`select count(*) as n from items`.execute(db.handle.db);
        expect(Number(rows[0]!.n)).toBe(3);
        expect(committed(db)).toEqual(['a', 'c', 'd']);
      } finally {
        await db.close();
      }
    },
  );

  it('lets a query wait for a group that holds the connection for less than the bound', async () => {
    const db = await open('short-wait', 300);
    try {
      const slow = db.transaction(async (tx) => {
        await insert(tx, 'a');
        await new Promise((resolve) => setTimeout(resolve, 150));
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(begins(db)).toBe(1);
      // Waits ~130 ms for the group, then sees what it committed.
      const { rows } = await sql<{ n: number }>`select count(*) as n from items`.execute(db.handle.db);
      expect(Number(rows[0]!.n)).toBe(1);
      await slow;
      expect(committed(db)).toEqual(['a']);
    } finally {
      await db.close();
    }
  });
});

describe('concurrent changes over HTTP', () => {
  const api = useTestServer();

  const REFUSAL = 'refused by the test';

  // Audit entries of workflows named "Refused ..." are refused by the database: their creation must fail alone.
  async function refuseSomeAuditEntries(): Promise<void> {
    const { db, dialect } = api.server.server.database;
    const refused = "(select name from workflows where id = NEW.resource_id) like 'Refused%'";
    if (dialect === 'sqlite') {
      await sql
        .raw(
          `create trigger refuse_some before insert on audit_logs when ${refused} begin select raise(abort, '${REFUSAL}'); end`,
        )
        .execute(db);
    } else {
      await sql
        .raw(
          `create function refuse_some() returns trigger language plpgsql as $$ begin if ${refused} then raise exception '${REFUSAL}'; end if; return NEW; end $$`,
        )
        .execute(db);
      await sql
        .raw('create trigger refuse_some before insert on audit_logs for each row execute function refuse_some()')
        .execute(db);
    }
  }

  async function acceptAuditEntries(): Promise<void> {
    const { db, dialect } = api.server.server.database;
    await sql.raw('drop trigger refuse_some' + (dialect === 'sqlite' ? '' : ' on audit_logs')).execute(db);
    if (dialect !== 'sqlite') await sql.raw('drop function refuse_some()').execute(db);
  }

  it('answers each creation for itself, and keeps exactly the ones answered 201, each with its audit entry', async () => {
    const key = api.server.secretKey;
    const steps = definition([{ id: 'note', type: 'log', message: 'hello', level: 'info' }]);
    const names = Array.from({ length: 24 }, (_, i) => `${i % 3 === 1 ? 'Refused' : 'Kept'} concurrent ${i}`);
    await refuseSomeAuditEntries();
    let answers: AnyAnswer[];
    try {
      // The database is held while the requests arrive, so that on SQLite their units wait
      // together and run as one group, the refused ones between the others.
      let release!: () => void;
      const held = api.server.server.database.db
        .transaction()
        .execute(() => new Promise<void>((resolve) => (release = resolve)));
      const sent = Promise.all(names.map((name) => api.as(key).POST('/v1/workflows', { body: { ...steps, name } })));
      await new Promise((resolve) => setTimeout(resolve, 300));
      release();
      await held;
      answers = await sent;
    } finally {
      await acceptAuditEntries();
    }
    const kept: string[] = [];
    answers.forEach((answer, i) => {
      if (names[i]!.startsWith('Refused')) {
        expectError(answer, 500, 'internal_error');
        expect(answer.text).not.toContain(REFUSAL);
      } else {
        expect(answer.status, answer.text).toBe(201);
        kept.push((answer.data as { data: { id: string } }).data.id);
      }
    });
    const listed = await listAtOnce<{ id: string; name: string }>(api.server, key, '/v1/workflows', {});
    const concurrent = listed.filter((workflow) => workflow.name.includes(' concurrent '));
    expect(concurrent.map((workflow) => workflow.id).sort()).toEqual([...kept].sort());
    expect(concurrent.every((workflow) => workflow.name.startsWith('Kept'))).toBe(true);
    for (const id of kept) {
      const entries = await listAtOnce<{ action: string }>(api.server, key, '/v1/audit-logs', { resource_id: id });
      expect(entries.map((entry) => entry.action)).toEqual(['workflow.created']);
    }
  });
});
