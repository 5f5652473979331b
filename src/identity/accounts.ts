// Accounts, their projects and their users: the tenancy above every resource.
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { accountTag } from '../cache/tags.ts';
import type { AccountRepository } from '../db/repositories/accounts.ts';
import type { Transaction } from '../db/transaction.ts';
import { newId } from '../domain/ids.ts';
import { iso, type Clock } from '../domain/time.ts';
import { hashPassword } from './passwords.ts';

export type Role = 'owner' | 'admin' | 'member';
export type Plan = 'free' | 'pro' | 'enterprise';

export class AccountService {
  constructor(
    private readonly repository: AccountRepository,
    private readonly clock: Clock,
    /** Runs the creation of an account with its first project as one unit of work. */
    private readonly transaction: Transaction,
    /** Authentication caches the plan with each key and session (src/cache/invalidation.ts). */
    private readonly invalidation: Invalidation = noCaching(),
  ) {}

  async createAccount(name: string, plan: Plan): Promise<{ accountId: string; projectId: string }> {
    const now = iso(this.clock());
    const accountId = newId('acct');
    const projectId = newId('proj');
    await this.transaction(async (tx) => {
      await this.repository.insertAccount({ id: accountId, name, plan, created_at: now }, tx);
      await this.repository.insertProject(
        { id: projectId, account_id: accountId, name: 'Default project', created_at: now },
        tx,
      );
    });
    return { accountId, projectId };
  }

  async createProject(accountId: string, name: string): Promise<string> {
    const id = newId('proj');
    await this.repository.addProject({ id, account_id: accountId, name, created_at: iso(this.clock()) });
    return id;
  }

  async createUser(input: {
    accountId: string;
    projectId: string;
    email: string;
    name: string;
    password: string;
    role: Role;
  }): Promise<string> {
    const id = newId('usr');
    const now = iso(this.clock());
    await this.repository.insertUser({
      id,
      account_id: input.accountId,
      email: input.email.trim().toLowerCase(),
      name: input.name,
      password_hash: await hashPassword(input.password),
      role: input.role,
      default_project_id: input.projectId,
      created_at: now,
      updated_at: now,
    });
    return id;
  }

  async setPassword(email: string, password: string): Promise<boolean> {
    return this.repository.setPassword(email.trim().toLowerCase(), await hashPassword(password), iso(this.clock()));
  }

  async setPlan(accountId: string, plan: Plan): Promise<void> {
    await this.repository.setPlan(accountId, plan);
    await this.invalidation.invalidate([accountTag(accountId)]);
  }

  async isEmpty(): Promise<boolean> {
    return this.repository.isEmpty();
  }

  /** Every account, oldest first (the operator's commands). */
  accounts(): Promise<{ id: string; name: string }[]> {
    return this.repository.accounts();
  }

  /** The ids of an account's projects, oldest first. */
  async projectIdsOf(accountId: string): Promise<string[]> {
    return (await this.repository.projectsOf(accountId)).map((project) => project.id);
  }

  /** Every user, oldest first (the operator's commands). */
  users(): Promise<{ id: string; email: string; role: string; account_id: string; default_project_id: string }[]> {
    return this.repository.users();
  }

  /** The account's first owner, if it has one. */
  firstOwnerOf(accountId: string): Promise<string | undefined> {
    return this.repository.firstOwnerOf(accountId);
  }

  async planOf(accountId: string): Promise<Plan> {
    const plan = await this.repository.planOf(accountId);
    if (plan === undefined) throw new Error(`no account ${accountId}`);
    return plan;
  }
}
