// Starts the real server for a test: in-process, on a free loopback port, on a
// fresh SQLite file in a temporary directory, with response validation on and its
// logs captured (so tests can scan them for secrets). Bootstrap creates the
// owner, an account, a project and an all-scopes secret test key, as on a real
// first start. A promise rejection that nobody handles while the server is up fails
// close(), and so the test that started it: every background task of the server must
// handle its own failures (src/main.ts logs one as a bug in production).
// startIdentityServer serves the same on an address known before start-up, as its
// public URL (the tokens' issuer). Test files use them through test/support/api.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { bootstrap } from '../../src/bootstrap.ts';
import { composeServer, type ComposeOptions, type Server } from '../../src/compose.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createListener } from '../../src/listen.ts';
import type { Clock } from '../../src/domain/time.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { loadRateLimitConfig, type RateLimitConfig } from '../../src/rate-limit/index.ts';
import { freshPostgresDatabase, freshRedisPrefix, testDatabaseUrl, testRedisUrl } from './services.ts';

export interface TestServer {
  baseUrl: string;
  server: Server;
  dataDir: string;
  /** What the server was configured with (another connection to the same data opens these). */
  config: Config;
  /** Every log line so far (JSON text). */
  logs: string[];
  owner: { email: string; password: string };
  accountId: string;
  projectId: string;
  /** sk_test_ key with every scope (read, write, workflows:execute). */
  secretKey: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: Clock;
  rateLimitConfig?: RateLimitConfig;
  /** The account's plan; `enterprise` by default so suites are not throttled by the plan. */
  plan?: 'free' | 'pro' | 'enterprise';
  contract?: ComposeOptions['contract'];
  /** Sees the SQL of every query. */
  observeQueries?: (sql: string) => void;
}

export const OWNER_PASSWORD = 'correct horse battery staple';

/** The default policy with every limit multiplied: for suites that are not about rate limits. */
export function generousRateLimits(factor = 100): RateLimitConfig {
  const base = loadRateLimitConfig(path.resolve(import.meta.dirname, '..', '..', 'config', 'rate-limits.yaml'));
  const scale = <T extends { limit: number }>(policy: T): T => ({ ...policy, limit: policy.limit * factor });
  return {
    ...base,
    categories: {
      read: scale(base.categories.read),
      write: scale(base.categories.write),
      execute: scale(base.categories.execute),
    },
    eventsPerClientIp: scale(base.eventsPerClientIp),
    plans: {
      free: base.plans.free.map(scale),
      pro: base.plans.pro.map(scale),
      enterprise: base.plans.enterprise.map(scale),
    },
    authMethods: {
      api_key: scale(base.authMethods.api_key),
      jwt: scale(base.authMethods.jwt),
      oauth: scale(base.authMethods.oauth),
    },
    guards: {
      login: scale(base.guards.login),
      failed_credentials: scale(base.guards.failed_credentials),
      leaked_key_reports: scale(base.guards.leaked_key_reports),
    },
  };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-test-'));
  const logs: string[] = [];
  // With TEST_DATABASE_URL / TEST_REDIS_URL (CI's second pass), every server gets its own
  // PostgreSQL database and Redis key prefix, unless the test chose its own.
  const postgres = testDatabaseUrl && options.env?.DATABASE_URL === undefined ? await freshPostgresDatabase() : null;
  const scaleOut = {
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...(testRedisUrl && options.env?.REDIS_URL === undefined
      ? { REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: freshRedisPrefix() }
      : {}),
  };
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    PORT: '0',
    AETHERFLOW_OWNER_EMAIL: 'owner@example.com',
    AETHERFLOW_OWNER_PASSWORD: OWNER_PASSWORD,
    VALIDATE_RESPONSES: 'true',
    LOG_LEVEL: 'info',
    // The production deadline is 1 s; a test machine running a whole suite on two cores
    // can take longer than that to answer a start-up query. Tests of the deadline set theirs.
    DEPENDENCY_TIMEOUT_MS: '5000',
    ...scaleOut,
    ...options.env,
  });
  const logger = createLogger({
    level: config.logLevel,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const server = await composeServer(config, {
    logger,
    rateLimitConfig: options.rateLimitConfig ?? generousRateLimits(),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.contract ? { contract: options.contract } : {}),
    ...(options.observeQueries ? { observeQueries: options.observeQueries } : {}),
  }).catch((error: unknown) => {
    process.off('unhandledRejection', onUnhandled);
    throw error;
  });
  const first = await bootstrap(config, server.services.accounts, server.services.apiKeys, server.services.transaction);
  if (!first) throw new Error('bootstrap did not run on a fresh data directory');
  await server.services.accounts.setPlan(first.accountId, options.plan ?? 'enterprise');

  // The listener `npm start` uses (with its handling of requests Node's parser refuses).
  const listener = createListener(config, server.app, logger);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  let closed = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    dataDir,
    config,
    logs,
    owner: { email: config.owner.email, password: OWNER_PASSWORD },
    accountId: first.accountId,
    projectId: first.projectId,
    secretKey: first.testKey,
    async close() {
      if (closed) return;
      closed = true;
      listener.closeAllConnections();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await server.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
      process.off('unhandledRejection', onUnhandled);
      if (unhandled.length > 0)
        throw new Error(
          `unhandled rejection(s) while the test server ran: ${unhandled.map((reason) => (reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))).join('\n')}`,
        );
    },
  };
}

export interface IdentityServer extends TestServer {
  /** The public URL: the tokens' `iss`, and where the server is reached. */
  issuer: string;
}

/**
 * startTestServer() listens on a port it picks itself, so the public URL cannot name
 * it; this serves the same app on a port bound first and announced as PUBLIC_URL,
 * so that discovery, `iss` and the endpoints in the metadata all agree. The port is
 * held from the start: probing a free port and binding it after the server's
 * start-up lost it, now and then, to another test process's outgoing connection.
 */
export async function startIdentityServer(options: TestServerOptions = {}): Promise<IdentityServer> {
  let app: http.RequestListener | undefined = undefined;
  const listener = http.createServer((request, response) => {
    // Nothing is told the address before the app is in place; a stray caller gets a 503.
    if (app) return app(request, response);
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const closeListener = async () => {
    listener.closeAllConnections();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  };
  const { port } = listener.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  let server: TestServer;
  try {
    server = await startTestServer({
      rateLimitConfig: generousRateLimits(),
      ...options,
      env: { PUBLIC_URL: issuer, ...options.env },
    });
  } catch (error) {
    await closeListener();
    throw error;
  }
  app = server.server.app;
  return {
    ...server,
    baseUrl: issuer,
    issuer,
    async close() {
      await closeListener();
      await server.close();
    },
  };
}
