// A part of a transaction that may fail on its own: it runs inside a savepoint, and when
// it fails, only what it wrote is undone and the transaction goes on to commit the rest
// (PostgreSQL refuses every later statement of a transaction after a failed one, unless
// it is rolled back to a savepoint first). For a unit of work in a group that shares one
// commit (groupCommitOn), and for a write that must never be lost to a lesser one beside
// it (AuditLog.recordDenial).
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `work` in a savepoint of `trx`: its value, or its failure with what it wrote undone. */
export async function insideSavepoint<T>(
  trx: Kysely<Database>,
  name: string,
  work: () => Promise<T>,
): Promise<Outcome<T>> {
  const savepoint = sql.id(name);
  await sql`savepoint ${savepoint}`.execute(trx);
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await sql`rollback to savepoint ${savepoint}`.execute(trx);
    await sql`release savepoint ${savepoint}`.execute(trx);
    return { ok: false, error };
  }
  await sql`release savepoint ${savepoint}`.execute(trx);
  return { ok: true, value };
}
