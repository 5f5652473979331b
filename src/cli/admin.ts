// `npm run admin -- <command> [options]`: user and account administration against
// the configured database (the same environment variables as `npm start`).
// Safe to run beside a running server.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { AuditLog } from '../audit/audit-log.ts';
import { ApiKeyManagement } from '../auth/api-key-management.ts';
import { noCaching, redisInvalidation } from '../cache/invalidation.ts';
import { LastUsedRecorder } from '../auth/last-used.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { loadContract } from '../contract/operations.ts';
import { aesGcmEncryptor } from '../crypto/aes-gcm.ts';
import { keyedHasher } from '../crypto/keyed-hash.ts';
import { openDatabase } from '../db/database.ts';
import { repositoriesOn } from '../db/repositories/index.ts';
import { transactionOn } from '../db/transaction.ts';
import { redisOptions } from '../dependencies/redis.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { systemClock } from '../domain/time.ts';
import { AccountService } from '../identity/accounts.ts';
import { createIdentity } from '../identity/identity.ts';
import { BruteForceGuard, InMemoryRateLimitStore, loadRateLimitConfig } from '../rate-limit/index.ts';
import { resolveSecrets } from '../secrets.ts';
import {
  addAccount,
  addProject,
  addUser,
  AdminError,
  createKey,
  importLegacyKey,
  listUsers,
  reencrypt,
  resetPassword,
  rotateSigningKey,
  setPlan,
  type AdminServices,
} from './admin-commands.ts';

const USAGE = `Usage: npm run admin -- <command> [options]

  create-key --name <name> --environment <test|live> [--type <secret|restricted|client>]
           [--scopes <scope,scope,...>] [--expires-at <RFC 3339 time>]
           [--account <acct_...>] [--project <proj_...>]
      Creates an API key in the project (the account's first one, or --project), as
      POST /v1/auth/api-keys does, and prints its secret once; the creation is audited.
      Scopes default to read,write,workflows:execute (secret), read (restricted),
      events:write (client). A test key reaches the project's sandbox data, a live
      key its live data. Use it when the first key is lost.
  add-account --name <name> [--plan <free|pro|enterprise>] [--owner-email <email>]
           [--owner-password <password>]
      Adds an account (a tenant) with its default project, and its owner if an email
      is given (without --owner-password, a password is generated and printed once).
  add-project --name <name> [--account <acct_...>]
      Adds a project to the account.
  add-user --email <email> --role <owner|admin|member> [--name <name>] [--password <password>]
           [--account <acct_...>] [--project <proj_...>]
      Adds a user to the account (the only one, or --account). Without --password a
      password is generated and printed once.
  reset-password --email <email> [--password <password>]
      Sets a new password (generated and printed once without --password) and revokes
      the user's sessions and app authorizations.
  set-plan --plan <free|pro|enterprise> [--account <acct_...>]
  import-legacy-key --key <wfk_...> --name <name> --scopes <scope,scope,...>
           [--account <acct_...>] [--project <proj_...>]
      Imports a key of the old platform; it keeps working through X-API-Key.
  rotate-signing-key [--now]
      Publishes a new token signing key, which signs from one hour later (at once with
      --now); the previous key keeps verifying until its tokens have expired.
  list-users
  reencrypt
      After a change of AETHERFLOW_ENCRYPTION_KEY (the old key moved to
      AETHERFLOW_ENCRYPTION_KEY_PREVIOUS): reseals every connection credential and
      signing key under the new key. Then the old key can be removed.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      account: { type: 'string' },
      project: { type: 'string' },
      plan: { type: 'string' },
      key: { type: 'string' },
      scopes: { type: 'string' },
      environment: { type: 'string' },
      type: { type: 'string' },
      'expires-at': { type: 'string' },
      'owner-email': { type: 'string' },
      'owner-password': { type: 'string' },
      now: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 1 : 0;
  }
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new AdminError(`${command} needs --${name}.\n\n${USAGE}`);
    return value;
  };
  const optional = <K extends 'name' | 'password' | 'account' | 'project' | 'type' | 'scopes' | 'plan'>(name: K) =>
    values[name] === undefined ? {} : { [name]: values[name] };
  /** `--expires-at` as `expiresAt`. */
  const optionalAs = <K extends 'expires-at' | 'owner-email' | 'owner-password', N extends string>(name: K, as: N) =>
    values[name] === undefined ? {} : ({ [as]: values[name] } as Record<N, string>);

  const config = loadConfig();
  const database = await openDatabase(config);
  // Bounded like the server's (src/dependencies/redis.ts): a Redis that does not answer fails the command instead of holding it.
  const redis =
    config.redisUrl === null
      ? null
      : new Redis(config.redisUrl, { ...redisOptions(config.dependencyTimeoutMs), enableOfflineQueue: true });
  try {
    await migrateToLatest(database.db as never);
    const { db } = database;
    const secrets = resolveSecrets(config);
    const guard = new BruteForceGuard({
      config: loadRateLimitConfig(config.rateLimitConfigFile),
      store: new InMemoryRateLimitStore(),
      now: systemClock,
    });
    const repositories = repositoriesOn(db);
    const transaction = transactionOn(db);
    const lastUsed = new LastUsedRecorder(repositories.apiKeys);
    // Servers cache keys, sessions and plans: with several instances (Redis), what this command
    // changes is announced to them on Redis; a server on the same SQLite file notices by itself.
    const invalidation = redis ? redisInvalidation(redis, config.redisKeyPrefix, { listen: false }) : noCaching();
    const contractDocument = loadContract().document;
    const services: AdminServices = {
      db,
      transaction,
      accounts: new AccountService(repositories.accounts, systemClock, transaction, invalidation),
      apiKeys: new ApiKeyManagement(
        repositories.apiKeys,
        keyedHasher(secrets.hashSecret, 'api-key', secrets.previousHashSecrets),
        systemClock,
        lastUsed,
        invalidation,
      ),
      identity: await createIdentity({
        repositories,
        transaction,
        clock: systemClock,
        publicUrl: config.publicUrl,
        secrets,
        guard,
        contractDocument,
        invalidation,
      }),
      encryptor: aesGcmEncryptor(secrets.encryptionKey, secrets.previousEncryptionKeys),
      audit: new AuditLog(repositories.audit, systemClock),
      contractDocument,
    };
    let lines: string[];
    switch (command) {
      case 'create-key':
        lines = await createKey(services, {
          name: need('name'),
          environment: need('environment'),
          ...optional('type'),
          ...optional('scopes'),
          ...optionalAs('expires-at', 'expiresAt'),
          ...optional('account'),
          ...optional('project'),
        });
        break;
      case 'add-account':
        lines = await addAccount(services, {
          name: need('name'),
          ...optional('plan'),
          ...optionalAs('owner-email', 'ownerEmail'),
          ...optionalAs('owner-password', 'ownerPassword'),
        });
        break;
      case 'add-project':
        lines = await addProject(services, { name: need('name'), ...optional('account') });
        break;
      case 'add-user':
        lines = await addUser(services, {
          email: need('email'),
          role: need('role'),
          ...optional('name'),
          ...optional('password'),
          ...optional('account'),
          ...optional('project'),
        });
        break;
      case 'reset-password':
        lines = await resetPassword(services, { email: need('email'), ...optional('password') });
        break;
      case 'set-plan':
        lines = await setPlan(services, { plan: need('plan'), ...optional('account') });
        break;
      case 'import-legacy-key':
        lines = await importLegacyKey(services, {
          key: need('key'),
          name: need('name'),
          scopes: need('scopes'),
          ...optional('account'),
          ...optional('project'),
        });
        break;
      case 'rotate-signing-key':
        lines = await rotateSigningKey(services, { now: values.now === true });
        break;
      case 'list-users':
        lines = await listUsers(services);
        break;
      case 'reencrypt':
        lines = await reencrypt(services);
        break;
      default:
        throw new AdminError(`Unknown command "${command}".\n\n${USAGE}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await database.close();
    await redis?.quit().catch(() => redis.disconnect());
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof AdminError || error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
      process.stderr.write(`${error.message}\n\n${USAGE}`);
    else
      process.stderr.write(
        `admin failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exitCode = 1;
  },
);
