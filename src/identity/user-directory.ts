// Reading users and the projects they may act on. A user belongs to one account
// and may act on every project of it; their role decides their scopes.
import type { AccountRepository, UserRow } from '../db/repositories/accounts.ts';
import type { Tx } from '../db/transaction.ts';

export type User = UserRow;

export interface ProjectChoice {
  id: string;
  name: string;
}

export class UserDirectory {
  constructor(private readonly repository: AccountRepository) {}

  async byEmail(email: string): Promise<User | null> {
    return (await this.repository.userByEmail(normaliseEmail(email))) ?? null;
  }

  async byId(id: string): Promise<User | null> {
    return (await this.repository.userById(id)) ?? null;
  }

  /** The user as `tx` sees it (a session refreshed, a grant exchanged). */
  async byIdIn(id: string, tx: Tx): Promise<User | null> {
    return (await this.repository.userByIdIn(id, tx)) ?? null;
  }

  /** The projects a user may act on: those of their account, the default one first. */
  async projectsOf(user: User): Promise<ProjectChoice[]> {
    const rows = await this.repository.projectsOf(user.account_id);
    return [
      ...rows.filter((p) => p.id === user.default_project_id),
      ...rows.filter((p) => p.id !== user.default_project_id),
    ];
  }

  async mayActOn(user: User, projectId: string): Promise<boolean> {
    return this.repository.projectOf(user.account_id, projectId);
  }
}

/** Emails are compared trimmed and lower-cased, as they are stored. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
