// The operations behind `npm run admin`: what an operator does without a
// dashboard and without editing the database. Each takes the opened services and
// returns the lines to print; secrets generated here are shown once and stored
// only as hashes.
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import type { components } from '../../generated/api.d.ts';
import { SYSTEM, type AuditLog } from '../audit/audit-log.ts';
import type { ApiKeyManagement } from '../auth/api-key-management.ts';
import { ownerAuthority } from '../auth/principal.ts';
import type { Encryptor } from '../crypto/aes-gcm.ts';
import { isScope } from '../auth/scopes.ts';
import { repositoriesOn } from '../db/repositories/index.ts';
import type { Database } from '../db/schema.ts';
import type { Transaction } from '../db/transaction.ts';
import { newId } from '../domain/ids.ts';
import { ApiError } from '../errors.ts';
import type { RequestContext } from '../http/request-context.ts';
import { bodyExplainer } from '../http/validation-problems.ts';
import type { AccountService, Plan } from '../identity/accounts.ts';
import type { Identity } from '../identity/identity.ts';
import { isRole, ROLES } from '../identity/roles.ts';
import { associatedData } from '../identity/signing-keys.ts';
import { normaliseEmail } from '../identity/user-directory.ts';

export class AdminError extends Error {}

export interface AdminServices {
  /** The database, for the resealing of everything sealed (reencrypt). */
  db: Kysely<Database>;
  /** Runs a command's unit of work. */
  transaction: Transaction;
  accounts: AccountService;
  apiKeys: ApiKeyManagement;
  identity: Identity;
  /** The current encryption key and the ones being rotated out. */
  encryptor: Encryptor;
  audit: AuditLog;
  /** The bundled contract: a key made here follows the API's own schema for one. */
  contractDocument: Record<string, unknown>;
}

const PLANS: readonly Plan[] = ['free', 'pro', 'enterprise'];
const MIN_PASSWORD = 12;

function newPassword(given: string | undefined): { password: string; generated: boolean } {
  if (given === undefined) return { password: randomBytes(18).toString('base64url'), generated: true };
  if (given.length < MIN_PASSWORD) throw new AdminError(`The password must be at least ${MIN_PASSWORD} characters.`);
  return { password: given, generated: false };
}

/** The account named, or the only one there is. */
async function accountOf(
  services: AdminServices,
  accountId: string | undefined,
): Promise<{ id: string; name: string }> {
  const accounts = await services.accounts.accounts();
  if (accountId !== undefined) {
    const found = accounts.find((a) => a.id === accountId);
    if (!found)
      throw new AdminError(
        `No account ${accountId}. Accounts: ${accounts.map((a) => a.id).join(', ') || '(none: start the server once to create the first one)'}`,
      );
    return found;
  }
  const [only, ...others] = accounts;
  if (!only)
    throw new AdminError('There is no account yet: start the server once (npm start) to create the first one.');
  if (others.length > 0)
    throw new AdminError(
      `There are several accounts: name one with --account (${accounts.map((a) => a.id).join(', ')}).`,
    );
  return only;
}

/** The project named (it must belong to the account), or the account's first one. */
async function projectOf(services: AdminServices, accountId: string, projectId: string | undefined): Promise<string> {
  const projects = await services.accounts.projectIdsOf(accountId);
  if (projectId === undefined) {
    const first = projects[0];
    if (!first) throw new AdminError(`Account ${accountId} has no project.`);
    return first;
  }
  if (!projects.includes(projectId))
    throw new AdminError(`Project ${projectId} is not a project of account ${accountId}.`);
  return projectId;
}

export async function addUser(
  services: AdminServices,
  options: { email: string; name?: string; role: string; account?: string; project?: string; password?: string },
): Promise<string[]> {
  if (!isRole(options.role)) throw new AdminError(`--role must be one of ${ROLES.join(', ')}.`);
  if (!/^[^\s@]+@[^\s@]+$/.test(options.email)) throw new AdminError(`"${options.email}" is not an email address.`);
  if (await services.identity.users.byEmail(options.email))
    throw new AdminError(`A user with the email ${normaliseEmail(options.email)} already exists.`);
  const account = await accountOf(services, options.account);
  const projectId = await projectOf(services, account.id, options.project);
  const { password, generated } = newPassword(options.password);
  const id = await services.accounts.createUser({
    accountId: account.id,
    projectId,
    email: options.email,
    name: options.name ?? options.email.split('@')[0]!,
    password,
    role: options.role,
  });
  return [
    `Created user ${id} (${normaliseEmail(options.email)}, ${options.role}) in account ${account.id}, default project ${projectId}.`,
    generated ? `Password (shown once): ${password}` : 'Password: as given.',
  ];
}

export async function resetPassword(
  services: AdminServices,
  options: { email: string; password?: string },
): Promise<string[]> {
  const user = await services.identity.users.byEmail(options.email);
  if (!user) throw new AdminError(`No user has the email ${normaliseEmail(options.email)}.`);
  const { password, generated } = newPassword(options.password);
  await services.accounts.setPassword(user.email, password);
  // Whoever knew the old password may hold a session: end them all, and the user's app authorizations.
  const revoked = await services.transaction(async (tx) => {
    const families = await services.identity.families.revokeAllOf({ userId: user.id }, 'password_reset', tx);
    await services.identity.browserSessions.endAllOf(user.id, tx);
    return families;
  });
  return [
    `Password of ${user.email} reset; ${revoked} session${revoked === 1 ? '' : 's'} and app authorization${revoked === 1 ? '' : 's'} revoked.`,
    generated ? `New password (shown once): ${password}` : 'New password: as given.',
  ];
}

export async function setPlan(services: AdminServices, options: { plan: string; account?: string }): Promise<string[]> {
  if (!(PLANS as readonly string[]).includes(options.plan))
    throw new AdminError(`--plan must be one of ${PLANS.join(', ')}.`);
  const account = await accountOf(services, options.account);
  await services.accounts.setPlan(account.id, options.plan as Plan);
  return [`Account ${account.id} is now on the ${options.plan} plan.`];
}

export async function importLegacyKey(
  services: AdminServices,
  options: { key: string; name: string; scopes: string; account?: string; project?: string },
): Promise<string[]> {
  if (!/^wfk_[0-9A-Za-z]{32}$/.test(options.key))
    throw new AdminError('--key must be a legacy key: wfk_ followed by 32 letters and digits.');
  const scopes = options.scopes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !isScope(s));
  if (scopes.length === 0 || unknown.length > 0)
    throw new AdminError(
      `--scopes must be a comma-separated list of scopes${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`,
    );
  const account = await accountOf(services, options.account);
  const projectId = await projectOf(services, account.id, options.project);
  const id = await services.transaction((tx) =>
    services.apiKeys.importLegacy({ accountId: account.id, projectId }, options.name, options.key, scopes, tx),
  );
  return [
    `Imported legacy key ${id} (${options.key.slice(0, 8)}...${options.key.slice(-4)}) into project ${projectId} (live) with ${scopes.join(', ')}.`,
    'It authenticates through the X-API-Key header only, and its answers carry a Deprecation header.',
  ];
}

export async function rotateSigningKey(services: AdminServices, options: { now: boolean }): Promise<string[]> {
  const rotation = await services.identity.signingKeys.rotate({ immediately: options.now });
  return [
    `New signing key ${rotation.kid}, published in /.well-known/jwks.json now, signing from ${rotation.activatesAt}.`,
    'The previous key keeps verifying until the tokens it signed have expired (1 hour after it stops signing).',
  ];
}

export async function listUsers(services: AdminServices): Promise<string[]> {
  const users = await services.accounts.users();
  if (users.length === 0) return ['No users yet: start the server once (npm start) to create the owner.'];
  return users.map(
    (u) => `${u.id}  ${u.email}  ${u.role}  account ${u.account_id}  default project ${u.default_project_id}`,
  );
}

/**
 * After a rotation of AETHERFLOW_ENCRYPTION_KEY: reseals every connection credential
 * and signing key still sealed with a previous key under the current one, so the
 * previous key can then be removed from AETHERFLOW_ENCRYPTION_KEY_PREVIOUS.
 */
export async function reencrypt(services: Pick<AdminServices, 'db' | 'encryptor'>): Promise<string[]> {
  const { encryptor } = services;
  // Every tenant's rows: an operator's command, through the repositories' named cross-tenant methods.
  const repositories = repositoriesOn(services.db);
  let connections = 0;
  for (const row of await repositories.connections.everySealed()) {
    if (encryptor.isCurrent(row.credentials_encrypted)) continue;
    const resealed = encryptor.encrypt(encryptor.decrypt(row.credentials_encrypted, row.id), row.id);
    await repositories.connections.reseal(row.id, row.credentials_encrypted, resealed);
    connections += 1;
  }
  let keys = 0;
  for (const row of await repositories.signingKeys.everySealed()) {
    if (encryptor.isCurrent(row.private_key_encrypted)) continue;
    const resealed = encryptor.encrypt(
      encryptor.decrypt(row.private_key_encrypted, associatedData(row.kid)),
      associatedData(row.kid),
    );
    await repositories.signingKeys.reseal(row.kid, resealed);
    keys += 1;
  }
  return [
    `Resealed ${connections} connection credential${connections === 1 ? '' : 's'} and ${keys} signing key${keys === 1 ? '' : 's'} under the current encryption key.`,
  ];
}

type ApiKeyCreate = components['schemas']['ApiKeyCreate'];

/** Scopes of a key created without --scopes: what the first key holds, or all a restricted or client key may. */
const DEFAULT_SCOPES: Record<string, string[]> = {
  secret: ['read', 'write', 'workflows:execute'],
  restricted: ['read'],
  client: ['events:write'],
};

/** What the command acts from, for its audit entry: this machine, no HTTP request (its own id stands in). */
function operatorContext(): RequestContext {
  return {
    requestId: newId('req'),
    ip: '127.0.0.1',
    userAgent: 'npm run admin',
    startedAt: Date.now(),
    operation: null,
    principal: null,
    rateLimit: null,
  };
}

function operatorName(): string | null {
  try {
    return userInfo().username || null;
  } catch {
    return null;
  }
}

/**
 * A new API key, made as `POST /v1/auth/api-keys` makes one (ApiKeyManagement.create, with
 * the contract's schema checked first), acting with the account's full reach in the
 * project and environment named; the secret is printed once, and the creation audited
 * as the API audits it, with the operator as a `system` actor.
 */
export async function createKey(
  services: AdminServices,
  options: {
    name: string;
    environment: string;
    type?: string;
    scopes?: string;
    expiresAt?: string;
    account?: string;
    project?: string;
  },
): Promise<string[]> {
  const account = await accountOf(services, options.account);
  const projectId = await projectOf(services, account.id, options.project);
  const type = options.type ?? 'secret';
  const scopes =
    options.scopes === undefined
      ? (DEFAULT_SCOPES[type] ?? [])
      : options.scopes
          .split(',')
          .map((scope) => scope.trim())
          .filter(Boolean);
  const input = {
    name: options.name,
    type,
    environment: options.environment,
    scopes,
    ...(options.expiresAt === undefined ? {} : { expires_at: options.expiresAt }),
  };
  const problems = bodyExplainer(services.contractDocument)({ $ref: '#/components/schemas/ApiKeyCreate' }, input);
  if (problems.length > 0) {
    // `/body/expires_at` is --expires-at, `/body/scopes/1` the second of --scopes.
    const option = (path: string) =>
      path
        .replace(/^\/body\/?/, '')
        .replace(
          /^([a-z_]+)(?:\/(\d+))?.*$/,
          (_all, name: string, index?: string) =>
            `--${name.replace(/_/g, '-')}${index === undefined ? '' : ` (item ${Number(index) + 1})`}`,
        ) || 'the key';
    throw new AdminError(problems.map((problem) => `${option(problem.path)}: ${problem.message}`).join('\n'));
  }
  const valid = input as ApiKeyCreate;
  const environment = valid.environment ?? 'test';
  const owner = await services.accounts.firstOwnerOf(account.id);
  const plan = await services.accounts.planOf(account.id);
  const operator = ownerAuthority({
    userId: owner ?? 'operator',
    accountId: account.id,
    projectId,
    environment,
    plan,
    label: 'admin',
  });
  const context = operatorContext();
  let key;
  try {
    key = await services.transaction(async (tx) => {
      const created = await services.apiKeys.create(operator, valid, tx);
      await services.audit.recordIn(
        context,
        {
          action: 'api_key.created',
          outcome: 'success',
          resource: { type: 'api_key', id: created.id },
          metadata: {
            type: created.type,
            scopes: created.scopes,
            environment: created.environment,
            expires_at: created.expires_at,
            via: 'npm run admin -- create-key',
            operator: operatorName(),
          },
          actor: SYSTEM,
          tenant: { accountId: account.id, projectId, environment },
        },
        tx,
      );
      return created;
    });
  } catch (error) {
    if (error instanceof ApiError) throw new AdminError(error.message);
    throw error;
  }
  return [
    `Created ${key.type} key ${key.id} "${key.name}" in project ${projectId} of account ${account.id}, environment ${key.environment}, scopes ${key.scopes.join(', ')}${key.expires_at ? `, expiring ${key.expires_at}` : ''}.`,
    `Key (shown once, stored only as a hash): ${key.secret}`,
    key.environment === 'test'
      ? "It reaches the project's test (sandbox) data only; a live key reaches its live data."
      : "It reaches the project's live data only; a test key reaches its sandbox data.",
  ];
}

// eslint-disable-next-line no-control-regex -- a name is refused if it holds a control character
const NAME = /^[^\x00-\x1F\x7F]{1,100}$/;

/** A new account (a tenant) with its default project, and optionally its owner. */
export async function addAccount(
  services: AdminServices,
  options: { name: string; plan?: string; ownerEmail?: string; ownerPassword?: string },
): Promise<string[]> {
  if (!NAME.test(options.name)) throw new AdminError('--name must be 1 to 100 characters, without control characters.');
  const plan = options.plan ?? 'free';
  if (!(PLANS as readonly string[]).includes(plan)) throw new AdminError(`--plan must be one of ${PLANS.join(', ')}.`);
  if (options.ownerEmail !== undefined) {
    if (!/^[^\s@]+@[^\s@]+$/.test(options.ownerEmail))
      throw new AdminError(`"${options.ownerEmail}" is not an email address.`);
    if (await services.identity.users.byEmail(options.ownerEmail))
      throw new AdminError(`A user with the email ${normaliseEmail(options.ownerEmail)} already exists.`);
  }
  const owner = options.ownerEmail === undefined ? null : newPassword(options.ownerPassword);
  const { accountId, projectId } = await services.accounts.createAccount(options.name, plan as Plan);
  const lines = [
    `Created account ${accountId} "${options.name}" (${plan} plan) with its project ${projectId} "Default project".`,
  ];
  if (options.ownerEmail !== undefined && owner) {
    const userId = await services.accounts.createUser({
      accountId,
      projectId,
      email: options.ownerEmail,
      name: options.ownerEmail.split('@')[0]!,
      password: owner.password,
      role: 'owner',
    });
    lines.push(
      `Owner ${userId} (${normaliseEmail(options.ownerEmail)}).`,
      owner.generated ? `Password (shown once): ${owner.password}` : 'Password: as given.',
    );
  }
  lines.push(`Give it a key: npm run admin -- create-key --account ${accountId} --environment test --name "First key"`);
  return lines;
}

/** A new project in an account (the only one, or --account). */
export async function addProject(
  services: AdminServices,
  options: { name: string; account?: string },
): Promise<string[]> {
  if (!NAME.test(options.name)) throw new AdminError('--name must be 1 to 100 characters, without control characters.');
  const account = await accountOf(services, options.account);
  const projectId = await services.accounts.createProject(account.id, options.name);
  return [
    `Created project ${projectId} "${options.name}" in account ${account.id}.`,
    `Give it a key: npm run admin -- create-key --account ${account.id} --project ${projectId} --environment test --name "First key"`,
  ];
}
