// Migrations: applied on start, and by `npm run migrate`. The list is static
// (imported, not read from a folder) so a bundle or a typo cannot skip one.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/001_initial.ts';
import * as identity from './migrations/002_identity.ts';
import * as runLeases from './migrations/003_run_leases.ts';
import * as oauthClientFence from './migrations/004_oauth_client_fence.ts';

const migrations: Record<string, Migration> = {
  '001_initial': initial,
  '002_identity': identity,
  '003_run_leases': runLeases,
  '004_oauth_client_fence': oauthClientFence,
};

const provider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a migration may throw a non-Error: named as it is
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
