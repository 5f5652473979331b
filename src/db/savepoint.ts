// A part of a unit of work that may fail on its own: it runs inside a savepoint, and
// when it fails, only what it wrote is undone and the unit goes on to commit the rest
// (PostgreSQL refuses every later statement of a transaction after a failed one, unless
// it is rolled back to a savepoint first). For a write that must never be lost to a
// lesser one beside it: see AuditLog.recordDenial.
import { sql } from 'kysely';
import type { Tx } from './transaction.ts';

/** Runs `work` in a savepoint of `tx`; returns its failure, with what it wrote undone, or null. */
export async function insideSavepoint(tx: Tx, name: string, work: () => Promise<void>): Promise<{ error: unknown } | null> {
  const savepoint = sql.id(name);
  await sql`savepoint ${savepoint}`.execute(tx.trx);
  try {
    await work();
  } catch (error) {
    await sql`rollback to savepoint ${savepoint}`.execute(tx.trx);
    await sql`release savepoint ${savepoint}`.execute(tx.trx);
    return { error };
  }
  await sql`release savepoint ${savepoint}`.execute(tx.trx);
  return null;
}
