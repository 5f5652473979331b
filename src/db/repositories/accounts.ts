// The accounts, projects and users tables: the tenancy above every resource. Projects
// are the tenants' projects; these tables hold no environment.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export type AccountRow = Database['accounts'];
export type ProjectRow = Database['projects'];
export type UserRow = Database['users'];

export class AccountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertAccount(account: AccountRow, tx: Tx): Promise<void> {
    await tx.trx.insertInto('accounts').values(account).execute();
  }

  async insertProject(project: ProjectRow, tx: Tx): Promise<void> {
    await tx.trx.insertInto('projects').values(project).execute();
  }

  /** A project on its own (one statement). */
  async addProject(project: ProjectRow): Promise<void> {
    await this.db.insertInto('projects').values(project).execute();
  }

  async insertUser(user: UserRow): Promise<void> {
    await this.db.insertInto('users').values(user).execute();
  }

  /** Sets the password of the user with `email`; false when there is none. */
  async setPassword(email: string, passwordHash: string, updatedAt: string): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: updatedAt })
      .where('email', '=', email)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setPlan(accountId: string, plan: AccountRow['plan']): Promise<void> {
    await this.db.updateTable('accounts').set({ plan }).where('id', '=', accountId).execute();
  }

  async isEmpty(): Promise<boolean> {
    return (await this.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst()) === undefined;
  }

  /** Every account, oldest first (the operator's commands). */
  accounts(): Promise<Pick<AccountRow, 'id' | 'name'>[]> {
    return this.db.selectFrom('accounts').select(['id', 'name']).orderBy('created_at').execute();
  }

  async planOf(accountId: string): Promise<AccountRow['plan'] | undefined> {
    return (await this.db.selectFrom('accounts').select('plan').where('id', '=', accountId).executeTakeFirst())?.plan;
  }

  /** The projects of an account, oldest first. */
  projectsOf(accountId: string): Promise<Pick<ProjectRow, 'id' | 'name'>[]> {
    return this.db
      .selectFrom('projects')
      .select(['id', 'name'])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async projectOf(accountId: string, projectId: string): Promise<boolean> {
    return (
      (await this.db
        .selectFrom('projects')
        .select('id')
        .where('id', '=', projectId)
        .where('account_id', '=', accountId)
        .executeTakeFirst()) !== undefined
    );
  }

  userByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  userById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  userByIdIn(id: string, tx: Tx): Promise<UserRow | undefined> {
    return tx.trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every user, oldest first (the operator's commands). */
  users(): Promise<Pick<UserRow, 'id' | 'email' | 'role' | 'account_id' | 'default_project_id'>[]> {
    return this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'account_id', 'default_project_id'])
      .orderBy('created_at')
      .execute();
  }

  /** The first owner of an account, if it has one. */
  async firstOwnerOf(accountId: string): Promise<string | undefined> {
    return (
      await this.db
        .selectFrom('users')
        .select('id')
        .where('account_id', '=', accountId)
        .where('role', '=', 'owner')
        .orderBy('created_at')
        .executeTakeFirst()
    )?.id;
  }
}
