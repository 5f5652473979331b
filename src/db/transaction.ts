// One unit of work: what is written through `trx` commits together or not at all (a
// change and its audit entry, for one), and what may only happen once it has committed
// (handing a new run to the runner, interrupting a cancelled one) waits until then, and
// never happens if it rolls back.
import type { Kysely } from 'kysely';
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
    const result = await db.transaction().execute((trx) => work({ trx, afterCommit: (action) => actions.push(action) }));
    for (const action of actions) await action();
    return result;
  };
}

/** Runs `action` once `tx` has committed, or at once when there is no unit of work. */
export async function whenCommitted(tx: Tx | undefined, action: () => void | Promise<void>): Promise<void> {
  if (tx) tx.afterCommit(action);
  else await action();
}
