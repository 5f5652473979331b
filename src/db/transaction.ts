// One unit of work: what is written through `trx` commits together or not at all (a
// change and its audit entry, for one), and what may only happen once it has committed
// (handing a new run to the runner, interrupting a cancelled one) waits until then, and
// never happens if it rolls back.
//
// This is the one way to run a unit of work: `transaction(async (tx) => ...)`, with `tx`
// passed down, explicitly and required, to every service and repository method that
// belongs to the unit. A method that runs alone (a read outside any unit, or one
// statement that commits on its own) takes no `tx`; none takes one optionally.
import type { Kysely } from 'kysely';
import { insideSavepoint, type Outcome } from './savepoint.ts';
import type { Database } from './schema.ts';

export interface Tx {
  /** Every query of the unit goes through it: on SQLite's one connection, a query on the database itself would wait for the unit to end. */
  trx: Kysely<Database>;
  /** Actions run in order once the unit has committed, and are awaited before it resolves (an answer is sent only after them). */
  afterCommit(action: () => void | Promise<void>): void;
}

export type Transaction = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

export function transactionOn(db: Kysely<Database>): Transaction {
  return async (work) => {
    const actions: (() => void | Promise<void>)[] = [];
    const result = await db
      .transaction()
      .execute((trx) => work({ trx, afterCommit: (action) => actions.push(action) }));
    for (const action of actions) await action();
    return result;
  };
}

/** Runs `work` in a savepoint of the unit `tx`: its value, or its failure with only what it wrote undone (src/db/savepoint.ts). */
export function withinSavepoint<T>(tx: Tx, name: string, work: () => Promise<T>): Promise<Outcome<T>> {
  return insideSavepoint(tx.trx, name, work);
}

interface Unit {
  work: (tx: Tx) => Promise<unknown>;
  actions: (() => void | Promise<void>)[];
  /** Null until the unit has run; a success stands only if the shared commit succeeds. */
  outcome: Outcome<unknown> | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit, for SQLite's one connection: the units of work waiting for the connection
 * run one after the other in one transaction, each inside a savepoint of its own, and
 * share its commit. A commit writes the WAL frames of every page it changed,
 * and a page changed by several units (a table's last leaf, an index's) is written once;
 * the transaction's own cost (begin, commit, the connection's turn) is paid once
 * (what it saves under concurrent writes: docs/performance.md, item 21).
 *
 * What each unit sees is what it would see alone, after the units before it: they run in
 * order, and a unit that fails is rolled back to its savepoint, so nothing of it remains
 * and the others go on. Nothing is acknowledged before the commit: each unit's
 * afterCommit actions run, and its promise settles, only once the shared commit has
 * succeeded; if the commit (or a rollback to a savepoint) fails, every unit of the group
 * fails with that error. Units begun while a group holds the connection form the next
 * group, so under load the groups grow with the queue instead of the queue growing.
 */
export function groupCommitOn(db: Kysely<Database>): Transaction {
  let pending: Unit[] = [];
  let scheduled = false;
  // The group is taken once the transaction has begun, i.e. once the connection is this
  // flush's: every unit begun while the previous group held it joins this one.
  const take = (): Unit[] => {
    const group = pending;
    pending = [];
    scheduled = false;
    return group;
  };
  const flush = async (): Promise<void> => {
    let group: Unit[] | null = null;
    try {
      await db.transaction().execute(async (trx) => {
        const units = (group = take());
        // A group of one needs no savepoint: its failure rolls the transaction back.
        const alone = units.length === 1;
        for (const unit of units) {
          const tx: Tx = { trx, afterCommit: (action) => unit.actions.push(action) };
          unit.outcome = alone
            ? { ok: true, value: await unit.work(tx) }
            : await insideSavepoint(trx, 'unit', () => unit.work(tx));
          if (!unit.outcome.ok) unit.actions = [];
        }
      });
    } catch (error) {
      // Nothing of the group was committed (or it never began): a unit's own failure stays its answer, every other unit gets this one.
      group ??= take();
      for (const unit of group) if (unit.outcome === null || unit.outcome.ok) unit.outcome = { ok: false, error };
    }
    for (const unit of group ?? []) {
      const outcome = unit.outcome!;
      if (!outcome.ok) {
        unit.reject(outcome.error);
        continue;
      }
      try {
        for (const action of unit.actions) await action();
        unit.resolve(outcome.value);
      } catch (error) {
        unit.reject(error);
      }
    }
  };
  return <T>(work: (tx: Tx) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      pending.push({ work, actions: [], outcome: null, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}
