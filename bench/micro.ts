// `npm run bench:micro`: where the time of one request goes. Each piece of the hot
// path is timed alone, in-process, on a server composed exactly as in production
// (NODE_ENV=production, request validation on, response validation off), on a
// SQLite database seeded like the main benchmark's. Whole requests are dispatched
// through real IncomingMessage/ServerResponse objects on an in-memory socket
// (bench/support/inject.ts), so the pipeline is measured without the network.
//
//   npm run bench:micro                  every piece, about 1 s each
//   npm run bench:micro -- --time 3000   longer (ms per piece)
//   npm run bench:micro -- --only jwt    pieces whose name contains "jwt"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import pino from 'pino';
import { composeServer } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { parseApiKey } from '../src/auth/api-key-format.ts';
import { ApiKeyVerifier } from '../src/auth/api-key-verification.ts';
import { VerifiedKeyCache } from '../src/auth/verified-key-cache.ts';
import { repositoriesOn } from '../src/db/repositories/index.ts';
import { LastUsedRecorder } from '../src/auth/last-used.ts';
import { noCaching } from '../src/cache/invalidation.ts';
import { SqlRevocationList } from '../src/identity/revocation.ts';
import { AccessTokenVerifier } from '../src/identity/token-verifier.ts';
import { keyedHasher } from '../src/crypto/keyed-hash.ts';
import { loadContract } from '../src/contract/operations.ts';
import { createLogger, requestLineLogger } from '../src/logging/logger.ts';
import { InMemoryRateLimitStore, loadRateLimitConfig, RateLimiter } from '../src/rate-limit/index.ts';
import { prepare, WORKFLOW } from './prepare.ts';
import { inject } from './support/inject.ts';

const { values: args } = parseArgs({
  options: {
    time: { type: 'string', default: '1000' },
    only: { type: 'string' },
    // Writes a V8 CPU profile of each measured piece (warm-up excluded) into this folder.
    profile: { type: 'string' },
  },
});
const TIME_MS = Number(args.time);

interface Timing {
  name: string;
  usPerOp: number;
  opsPerSecond: number;
}

/**
 * Runs `fn` repeatedly (awaiting each call) for TIME_MS after a warm-up, in 5 slices, and
 * reports the median slice in CPU time per call (process.cpuUsage: this process's threads),
 * which other load on the machine disturbs far less than wall time; wall time beside it.
 */
async function measure(name: string, fn: () => unknown, group: Timing[]): Promise<void> {
  if (args.only && !name.toLowerCase().includes(args.only.toLowerCase())) return;
  const warmUntil = performance.now() + Math.max(500, TIME_MS / 2);
  while (performance.now() < warmUntil) await fn();
  const cpu: number[] = [];
  const wall: number[] = [];
  if (args.profile) await profiler('start');
  for (let s = 0; s < 5; s++) {
    let n = 0;
    const start = performance.now();
    const startCpu = process.cpuUsage();
    const until = start + TIME_MS / 5;
    while (performance.now() < until) {
      await fn();
      n++;
    }
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / n);
    wall.push(((performance.now() - start) * 1000) / n);
  }
  if (args.profile) await profiler('stop', name);
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const us = cpu[2]!;
  group.push({ name, usPerOp: us, opsPerSecond: 1e6 / us });
  console.log(
    `${name.padEnd(64)} ${us.toFixed(1).padStart(9)} µs CPU/op ${(1e6 / us).toFixed(0).padStart(8)} op/s per core   (wall ${wall[2]!.toFixed(1)} µs)`,
  );
}

let session: Session | null = null;
async function profiler(action: 'start' | 'stop', name = ''): Promise<void> {
  if (!session) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
  }
  if (action === 'start') {
    await session.post('Profiler.start');
    return;
  }
  const { profile } = (await session.post('Profiler.stop')) as { profile: unknown };
  mkdirSync(args.profile!, { recursive: true });
  writeFileSync(
    path.join(args.profile!, `${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.cpuprofile`),
    JSON.stringify(profile),
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'aetherflow-micro-'));
  const timings: Timing[] = [];
  try {
    const data = await prepare(work, { small: 1000, big: 1 });
    const config = loadConfig({ ...data.env, PORT: '0' });
    // Production logs go to stdout; here to /dev/null, written the same (asynchronous) way.
    const logger = createLogger({
      level: config.logLevel,
      destination: pino.destination({ dest: '/dev/null', sync: false }),
    });
    const server = await composeServer(config, { logger });
    const app = server.app as unknown as Parameters<typeof inject>[0];
    const proxied = { 'x-forwarded-proto': 'https' };
    const withKey = (key: string) => ({ ...proxied, authorization: `Bearer ${key}` });
    const body = JSON.stringify(WORKFLOW);
    const expect = async (status: number, request: Parameters<typeof inject>[1]) => {
      const answer = await inject(app, request);
      if (answer.status !== status)
        throw new Error(`${request.method} ${request.url}: ${answer.status}, expected ${status}`);
    };

    const login = await fetchLogin(app, data.owner);
    console.log('\nwhole requests through the app (in-process, no network)');
    const getById = { method: 'GET', url: `/v1/workflows/${data.workflowId}`, headers: withKey(data.key) };
    await measure('app: GET /v1/workflows/{id} (API key)', () => expect(200, getById), timings);
    await measure(
      'app: GET /v1/workflows (20 items)',
      () => expect(200, { method: 'GET', url: '/v1/workflows', headers: withKey(data.key) }),
      timings,
    );
    const firstPage = (await getJson(app, {
      method: 'GET',
      url: '/v1/workflows?limit=20',
      headers: withKey(data.key),
    })) as { next_cursor: string };
    const secondPage = {
      method: 'GET',
      url: `/v1/workflows?limit=20&cursor=${firstPage.next_cursor}`,
      headers: withKey(data.key),
    };
    await measure('app: GET /v1/workflows?limit=20&cursor= (second page)', () => expect(200, secondPage), timings);
    await measure(
      'app: POST /v1/workflows',
      () =>
        expect(201, {
          method: 'POST',
          url: '/v1/workflows',
          headers: { ...withKey(data.writeKey), 'content-type': 'application/json' },
          body,
        }),
      timings,
    );
    await measure(
      'app: GET /v1/workflows/{id} (JWT)',
      () => expect(200, { method: 'GET', url: `/v1/workflows/${data.liveWorkflowId}`, headers: withKey(login) }),
      timings,
    );
    await measure(
      'app: GET /health (public, no auth)',
      () => expect(200, { method: 'GET', url: '/health', headers: proxied }),
      timings,
    );
    await measure(
      'app: GET /v1/workflows/{id} refused by the checksum (401)',
      () =>
        expect(401, {
          method: 'GET',
          url: `/v1/workflows/${data.workflowId}`,
          headers: withKey(`${data.key.slice(0, -1)}x`),
        }),
      timings,
    );

    // References: bare Express on the same body, and Express with only the contract validator.
    const captured = await getJson(app, getById);
    const bare = express();
    bare.get('/v1/workflows/:workflow_id', (_req, res) => void res.json(captured));
    await measure('reference: bare Express, same body', () => inject(bare as never, getById), timings);
    const validated = express();
    validated.use(express.json());
    validated.use(
      OpenApiValidator.middleware({
        apiSpec: loadContract().document as never,
        validateApiSpec: false,
        validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
        validateResponses: false,
        validateSecurity: false,
        ignoreUndocumented: false,
      }),
    );
    validated.get('/v1/workflows/:workflow_id', (_req, res) => void res.json(captured));
    await measure(
      'reference: Express + express-openapi-validator (requests)',
      () => inject(validated as never, getById),
      timings,
    );

    console.log('\npieces of the hot path');
    const { workflows } = server.services;
    const apiKeys = server.apiKeyVerifier;
    const hash = keyedHasher(config.hashSecret!, 'api-key');
    await measure('api key: format + checksum (parseApiKey)', () => parseApiKey(data.key), timings);
    await measure('api key: keyed hash (HMAC-SHA-256)', () => hash(data.key), timings);
    await measure(
      'api key: authenticate, warm (cached verified key)',
      () => apiKeys.authenticate(data.key, 'BearerAuth', '127.0.0.1'),
      timings,
    );
    // The same service without a cache: every call reads the key from the database.
    const repositories = repositoriesOn(server.database.db);
    const uncached = new ApiKeyVerifier(
      repositories.apiKeys,
      hash,
      Date.now,
      new LastUsedRecorder(repositories.apiKeys),
      new VerifiedKeyCache(noCaching()),
    );
    await measure(
      'api key: authenticate, cold (database lookup)',
      () => uncached.authenticate(data.key, 'BearerAuth', '127.0.0.1'),
      timings,
    );

    const { accessTokens, tokenVerifier } = server.identity;
    await measure('jwt: signature + claims (jose ES256 verify)', () => accessTokens.verify(login), timings);
    await measure(
      'jwt: tokenVerifier.verify, warm (as the pipeline calls it)',
      () => tokenVerifier.verify(login),
      timings,
    );
    // A new verifier per call: signature check, revocation list and token family from the database.
    const revocations = new SqlRevocationList(repositories.revokedTokens, Date.now);
    await measure(
      'jwt: tokenVerifier.verify, cold (signature + 2 queries)',
      () => new AccessTokenVerifier(repositories.tokenFamilies, accessTokens, revocations, Date.now).verify(login),
      timings,
    );

    const principal = await apiKeys.authenticate(data.key, 'BearerAuth', '127.0.0.1');
    const limiter = new RateLimiter({
      config: loadRateLimitConfig(config.rateLimitConfigFile),
      store: new InMemoryRateLimitStore(),
      now: Date.now,
    });
    await measure(
      'rate limit: consume (4 policies, memory store)',
      () =>
        limiter.consume({
          category: 'read',
          plan: 'enterprise',
          accountId: principal.accountId,
          authMethod: 'api_key',
          principalId: principal.keyId,
          clientIp: '127.0.0.1',
        }),
      timings,
    );
    const scope = { projectId: principal.projectId, environment: principal.environment };
    await measure('db: workflows.get (Kysely + better-sqlite3)', () => workflows.get(scope, data.workflowId), timings);
    await measure('db: workflows.list (20 of 1k)', () => workflows.list(scope, undefined, 20), timings);
    const line = () => ({
      req_id: 'req_x',
      method: 'GET',
      path: '/v1/workflows/{workflow_id}',
      operation: 'getWorkflow',
      status: 200,
      ms: 1,
      ip: '127.0.0.1',
      principal: 'key_x',
    });
    const requestLines = requestLineLogger(logger);
    await measure(
      'log: one request line (no redaction, as the pipeline writes it)',
      () => requestLines.info(line(), 'request'),
      timings,
    );
    await measure('log: the same line, redacting logger', () => logger.info(line(), 'request'), timings);
    await server.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function getJson(app: Parameters<typeof inject>[0], request: Parameters<typeof inject>[1]): Promise<unknown> {
  // The in-memory socket counts bytes; to read a body, ask the app through a real response once.
  const { default: http } = await import('node:http');
  const listener = http.createServer(app);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = listener.address() as import('node:net').AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${request.url}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
    });
    return await res.json();
  } finally {
    listener.close();
  }
}

async function fetchLogin(
  app: Parameters<typeof inject>[0],
  owner: { email: string; password: string },
): Promise<string> {
  const answer = (await getJson(app, {
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'x-forwarded-proto': 'https', 'content-type': 'application/json' },
    body: JSON.stringify(owner),
  })) as { data?: { token: string } };
  if (!answer.data) throw new Error(`login failed: ${JSON.stringify(answer)}`);
  return answer.data.token;
}

await main();
