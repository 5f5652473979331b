// An OAuth app keeps the fence of the credential that registered it (src/auth/reach.ts):
// its IP allowlist and its end. Apps registered before this migration were registered
// without one, and keep none.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('allowed_ips', 'text', (column) => column.notNull().defaultTo(sql`'[]'`))
    .execute();
  await db.schema.alterTable('oauth_clients').addColumn('expires_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('expires_at').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('allowed_ips').execute();
}
