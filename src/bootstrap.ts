// First start: an empty database gets an account, a project, its owner and one
// secret test key, so that a new user can call the API at once. The key and a
// generated password are shown once, by the caller, and never stored in clear.
import { randomBytes } from 'node:crypto';
import type { ApiKeyManagement } from './auth/api-key-management.ts';
import { ownerAuthority } from './auth/principal.ts';
import type { Config } from './config.ts';
import type { Transaction } from './db/transaction.ts';
import type { AccountService } from './identity/accounts.ts';

export interface FirstStart {
  accountId: string;
  projectId: string;
  ownerEmail: string;
  /** Null when the password came from AETHERFLOW_OWNER_PASSWORD. */
  generatedPassword: string | null;
  testKey: string;
}

export async function bootstrap(
  config: Config,
  accounts: AccountService,
  apiKeys: ApiKeyManagement,
  transaction: Transaction,
): Promise<FirstStart | null> {
  if (!(await accounts.isEmpty())) return null;
  const { accountId, projectId } = await accounts.createAccount('My account', 'free');
  const generatedPassword = config.owner.password === null ? randomBytes(18).toString('base64url') : null;
  const ownerId = await accounts.createUser({
    accountId,
    projectId,
    email: config.owner.email,
    name: 'Owner',
    password: config.owner.password ?? generatedPassword!,
    role: 'owner',
  });
  const key = await transaction((tx) =>
    apiKeys.create(
      ownerAuthority({ userId: ownerId, accountId, projectId, environment: 'test', plan: 'free', label: 'bootstrap' }),
      { name: 'First test key', type: 'secret', environment: 'test', scopes: ['read', 'write', 'workflows:execute'] },
      tx,
    ),
  );
  return { accountId, projectId, ownerEmail: config.owner.email, generatedPassword, testKey: key.secret };
}
