// Runs are executed by whichever instance holds their lease: several instances
// share one database, and a run must be executed once, and picked up again when
// the instance executing it dies.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('runs').addColumn('lease_expires_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('lease_expires_at').execute();
  await db.schema.alterTable('runs').dropColumn('lease_owner').execute();
}
