// The composition root: builds every service once from the configuration and
// hands them to the HTTP app. Nothing else constructs services or holds state
// across requests; tests build servers through here too, with their own clock,
// logger and data directory.
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { localInvalidation, noCaching, redisInvalidation } from './cache/invalidation.ts';
import { AuditLog } from './audit/audit-log.ts';
import { ApiKeyManagement } from './auth/api-key-management.ts';
import { ApiKeyVerifier } from './auth/api-key-verification.ts';
import type { TokenVerifier } from './auth/principal.ts';
import { LastUsedRecorder } from './auth/last-used.ts';
import { VerifiedKeyCache } from './auth/verified-key-cache.ts';
import type { Config } from './config.ts';
import { loadContract, type Contract } from './contract/operations.ts';
import { aesGcmEncryptor } from './crypto/aes-gcm.ts';
import { keyedHasher } from './crypto/keyed-hash.ts';
import { openDatabase, type DatabaseHandle, type QueryObserver } from './db/database.ts';
import { connectRedis, type RedisConnection } from './dependencies/redis.ts';
import { migrateToLatest } from './db/migrate.ts';
import { repositoriesOn } from './db/repositories/index.ts';
import { groupCommitOn, transactionOn } from './db/transaction.ts';
import { ConnectionService } from './domain/connections.ts';
import { EventService } from './domain/events.ts';
import { IdempotencyStore } from './domain/idempotency.ts';
import { RunService } from './domain/runs.ts';
import { systemClock, type Clock } from './domain/time.ts';
import { WorkflowService } from './domain/workflows.ts';
import { apiKeyHandlers } from './handlers/api-keys.ts';
import { auditLogHandlers } from './handlers/audit-logs.ts';
import { connectionHandlers } from './handlers/connections.ts';
import { credentialHandlers } from './handlers/credentials.ts';
import { eventHandlers } from './handlers/events.ts';
import { healthHandlers } from './handlers/health.ts';
import { identityHandlers } from './handlers/identity.ts';
import { runHandlers } from './handlers/runs.ts';
import type { Services } from './handlers/services.ts';
import { workflowHandlers } from './handlers/workflows.ts';
import type { Handlers } from './http/handler.ts';
import { RateLimitAudit } from './http/rate-limit-audit.ts';
import { AccountService } from './identity/accounts.ts';
import { createIdentity, type Identity } from './identity/identity.ts';
import { createLogger } from './logging/logger.ts';
import {
  BruteForceGuard,
  InMemoryRateLimitStore,
  loadRateLimitConfig,
  RateLimiter,
  type RateLimitConfig,
} from './rate-limit/index.ts';
import { FailoverRateLimitStore } from './rate-limit/failover-store.ts';
import { RedisRateLimitStore } from './rate-limit/redis-store.ts';
import { StepRunner } from './runner/step-runner.ts';
import { resolveSecrets } from './secrets.ts';
import { ShutdownSteps } from './shutdown-steps.ts';

export interface ComposeOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replaces the rate-limit file (tests with small limits). */
  rateLimitConfig?: RateLimitConfig;
  /** The contract to serve (tests of the handler registry). */
  contract?: Contract;
  /** Sees every SQL query (tests). */
  observeQueries?: QueryObserver;
}

export interface Server {
  app: Express;
  config: Config;
  services: Services & { accounts: AccountService };
  /** Authenticates presented API keys (the pipeline's; benchmarks). */
  apiKeyVerifier: ApiKeyVerifier;
  /** Sessions, access tokens and the OAuth authorization server (signing-key rotation, tests). */
  identity: Identity;
  database: DatabaseHandle;
  runner: StepRunner;
  logger: Logger;
  /**
   * Stops background work, writes what is buffered, then closes the database and Redis:
   * each step on its own, so one that fails (or hangs: `steps` names what is still under
   * way) does not keep the others from running. Rejects naming the steps that failed.
   */
  close(steps?: ShutdownSteps): Promise<void>;
  /** Marks the instance as shutting down: /health answers 503 from now on. */
  drain(): void;
  /** Writes what is buffered in memory (last-used times, rate-limit audit counts) now. */
  flush(): Promise<void>;
}

const VERSION = '1.0.0';

export async function composeServer(config: Config, options: ComposeOptions = {}): Promise<Server> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const secrets = resolveSecrets(config);
  const contract = options.contract ?? loadContract();
  const rateLimitConfig = options.rateLimitConfig ?? loadRateLimitConfig(config.rateLimitConfigFile);

  // Migrations may take longer than a request's deadline: on PostgreSQL they run first, on a connection without one.
  if (config.databaseUrl !== null) {
    const migrating = await openDatabase(config);
    try {
      await migrateToLatest(migrating.db as never);
    } finally {
      await migrating.close();
    }
  }
  const database = await openDatabase(config, options.observeQueries, {
    backgroundCheckpoints: {
      onError: (error) =>
        logger.warn(
          { err: { message: error.message } },
          'background checkpoints stopped; SQLite checkpoints on commit instead',
        ),
    },
    deadlines: { timeoutMs: config.dependencyTimeoutMs, logger },
  });
  let redis: RedisConnection | null = null;
  try {
    if (database.dialect === 'sqlite') await migrateToLatest(database.db as never);
    redis =
      config.redisUrl === null
        ? null
        : await connectRedis(config.redisUrl, { timeoutMs: config.dependencyTimeoutMs, logger });
    return await assemble(config, { clock, logger, secrets, contract, rateLimitConfig, database, redis });
  } catch (error) {
    await redis?.close();
    await database.close();
    throw error;
  }
}

async function assemble(
  config: Config,
  parts: {
    clock: Clock;
    logger: Logger;
    secrets: ReturnType<typeof resolveSecrets>;
    contract: Contract;
    rateLimitConfig: RateLimitConfig;
    database: DatabaseHandle;
    redis: RedisConnection | null;
  },
): Promise<Server> {
  const { clock, logger, secrets, contract, rateLimitConfig, database, redis } = parts;
  const { db } = database;
  const repositories = repositoriesOn(db);

  // How authentication's caches hear of revocations, rotations and plan changes (src/cache/invalidation.ts).
  const invalidation = redis
    ? redisInvalidation(redis.redis, config.redisKeyPrefix, { listen: true, dependency: redis.dependency })
    : database.dialect === 'sqlite'
      ? localInvalidation(database.externalVersion)
      : noCaching();

  // SQLite's one connection commits concurrent requests' units together; PostgreSQL's pool runs them side by side.
  const transaction = database.dialect === 'sqlite' ? groupCommitOn(db) : transactionOn(db);
  const audit = new AuditLog(repositories.audit, clock);
  const keyHash = keyedHasher(secrets.hashSecret, 'api-key', secrets.previousHashSecrets);
  const lastUsed = new LastUsedRecorder(repositories.apiKeys, { logger });
  const apiKeyVerifier = new ApiKeyVerifier(
    repositories.apiKeys,
    keyHash,
    clock,
    lastUsed,
    new VerifiedKeyCache(invalidation),
  );
  const apiKeys = new ApiKeyManagement(repositories.apiKeys, keyHash, clock, lastUsed, invalidation);
  // GET by id and the list are answered from what is kept only where a change is known to
  // every reader the moment it commits: one process on SQLite (in-process, and data_version
  // for other processes). Across instances a Redis message arrives a moment after the commit,
  // and a client that writes through one instance and reads through another must see its
  // write. An invalidation of its own: every workflow created invalidates its tenant's list
  // pages, and authentication's caches must not see their generation move that often (a key
  // read while it moves is not kept).
  const workflowInvalidation =
    database.dialect === 'sqlite' ? localInvalidation(database.externalVersion) : noCaching();
  const workflows = new WorkflowService(repositories.workflows, clock, { invalidation: workflowInvalidation });
  // A SQLite file serves one process; PostgreSQL may be shared by several instances.
  const runner = new StepRunner(repositories.runExecution, clock, logger, {
    soleInstance: database.dialect === 'sqlite',
  });
  const runs = new RunService(repositories.runs, clock, workflows, runner);
  const connections = new ConnectionService(
    repositories.connections,
    clock,
    aesGcmEncryptor(secrets.encryptionKey, secrets.previousEncryptionKeys),
  );
  const events = new EventService(repositories.events, clock, workflows, runs);
  const accounts = new AccountService(repositories.accounts, clock, transaction, invalidation);
  const services = { config, clock, transaction, audit, apiKeys, workflows, runs, connections, events, accounts };

  // One instance keeps counters in memory; several share them in Redis, and each falls back to its own memory while Redis is down.
  const store = redis
    ? new FailoverRateLimitStore(
        new RedisRateLimitStore(redis.redis, config.redisKeyPrefix),
        new InMemoryRateLimitStore(),
        redis.dependency,
        logger,
      )
    : new InMemoryRateLimitStore();
  const limiter = new RateLimiter({ config: rateLimitConfig, store, now: clock });
  const guard = new BruteForceGuard({ config: rateLimitConfig, store, now: clock });
  const rateLimitAudit = new RateLimitAudit(audit, clock, logger);
  const identity = await createIdentity({
    repositories,
    transaction,
    clock,
    publicUrl: config.publicUrl,
    secrets,
    guard,
    contractDocument: contract.document,
    invalidation,
  });

  let draining = false;
  let closing: Promise<void> | null = null;
  const startedAt = clock();
  const handlers: Handlers = {
    ...workflowHandlers(services),
    ...runHandlers(services),
    ...connectionHandlers(services),
    ...eventHandlers(services),
    ...apiKeyHandlers(services, guard),
    ...auditLogHandlers(services),
    ...credentialHandlers(limiter),
    ...healthHandlers(
      {
        database: database.dependency ? () => database.dependency!.check() : () => database.ping(),
        redis: redis ? () => redis.dependency.check() : null,
        timeoutMs: config.dependencyTimeoutMs,
        shuttingDown: () => draining,
        startedAt,
        version: VERSION,
      },
      clock,
    ),
    ...identityHandlers({ identity, audit, guard, transaction, clock }),
  };
  const tokens: TokenVerifier = identity.tokenVerifier;

  const app = createApp({
    config,
    contract,
    logger,
    clock,
    handlers,
    apiKeys: apiKeyVerifier,
    tokens,
    audit,
    idempotency: new IdempotencyStore(repositories.idempotency, clock),
    limiter,
    guard,
    rateLimitAudit,
  });
  await runner.start();

  return {
    app,
    config,
    services,
    apiKeyVerifier,
    identity,
    database,
    runner,
    logger,
    drain: () => {
      draining = true;
    },
    async flush() {
      await lastUsed.flush();
      await rateLimitAudit.flush(true);
    },
    close(steps = new ShutdownSteps(logger)) {
      // Idempotent: the shutdown path and a test may both call it.
      closing ??= (async () => {
        draining = true;
        lastUsed.stop();
        rateLimitAudit.stop();
        // What needs the database first, then the connections.
        await steps.all({
          'run executor': () => runner.stop(),
          'last-used times': () => lastUsed.flush(),
          'rate-limit audit entries': () => rateLimitAudit.flush(true),
        });
        await steps.all({
          database: () => database.close(),
          'cache invalidation': () => invalidation.close(),
          ...(redis ? { redis: () => redis.close() } : {}),
        });
        const failed = steps.failed();
        if (failed.length > 0) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
      })();
      return closing;
    },
  };
}
