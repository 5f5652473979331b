// Reading users and the projects they may act on. A user belongs to one account
// and may act on every project of it; their role decides their scopes.
import type { Kysely } from 'kysely';
import type { Database, UsersTable } from '../db/schema.ts';

export type User = UsersTable;

export interface ProjectChoice {
  id: string;
  name: string;
}

export class UserDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  async byEmail(email: string): Promise<User | null> {
    return (await this.db.selectFrom('users').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst()) ?? null;
  }

  async byId(id: string, db: Kysely<Database> = this.db): Promise<User | null> {
    return (await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /** The projects a user may act on: those of their account, the default one first. */
  async projectsOf(user: User): Promise<ProjectChoice[]> {
    const rows = await this.db.selectFrom('projects').select(['id', 'name']).where('account_id', '=', user.account_id).orderBy('created_at').orderBy('id').execute();
    return [...rows.filter((p) => p.id === user.default_project_id), ...rows.filter((p) => p.id !== user.default_project_id)];
  }

  async mayActOn(user: User, projectId: string): Promise<boolean> {
    const row = await this.db.selectFrom('projects').select('id').where('id', '=', projectId).where('account_id', '=', user.account_id).executeTakeFirst();
    return row !== undefined;
  }
}

/** Emails are compared trimmed and lower-cased, as they are stored. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
