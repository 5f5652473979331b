// Accounts, their projects and their users: the tenancy above every resource.
import type { Kysely } from 'kysely';
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { accountTag } from '../cache/tags.ts';
import type { Database } from '../db/schema.ts';
import { newId } from '../domain/ids.ts';
import { iso, type Clock } from '../domain/time.ts';
import { hashPassword } from './passwords.ts';

export type Role = 'owner' | 'admin' | 'member';
export type Plan = 'free' | 'pro' | 'enterprise';

export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    /** Authentication caches the plan with each key and session (src/cache/invalidation.ts). */
    private readonly invalidation: Invalidation = noCaching(),
  ) {}

  async createAccount(name: string, plan: Plan): Promise<{ accountId: string; projectId: string }> {
    const now = iso(this.clock());
    const accountId = newId('acct');
    const projectId = newId('proj');
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({ id: accountId, name, plan, created_at: now }).execute();
      await trx.insertInto('projects').values({ id: projectId, account_id: accountId, name: 'Default project', created_at: now }).execute();
    });
    return { accountId, projectId };
  }

  async createProject(accountId: string, name: string): Promise<string> {
    const id = newId('proj');
    await this.db.insertInto('projects').values({ id, account_id: accountId, name, created_at: iso(this.clock()) }).execute();
    return id;
  }

  async createUser(input: { accountId: string; projectId: string; email: string; name: string; password: string; role: Role }): Promise<string> {
    const id = newId('usr');
    const now = iso(this.clock());
    await this.db
      .insertInto('users')
      .values({
        id,
        account_id: input.accountId,
        email: input.email.trim().toLowerCase(),
        name: input.name,
        password_hash: await hashPassword(input.password),
        role: input.role,
        default_project_id: input.projectId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  async setPassword(email: string, password: string): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password), updated_at: iso(this.clock()) })
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setPlan(accountId: string, plan: Plan): Promise<void> {
    await this.db.updateTable('accounts').set({ plan }).where('id', '=', accountId).execute();
    await this.invalidation.invalidate([accountTag(accountId)]);
  }

  async isEmpty(): Promise<boolean> {
    const row = await this.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
    return row === undefined;
  }
}
