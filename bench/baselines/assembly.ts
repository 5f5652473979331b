// Baseline: the typical assembly, what a team would ship for this contract from the usual
// packages, each used as its documentation shows (issue 28): Express 5 + helmet() +
// pino-http (a line per request; the benchmark sends stdout to a file, as it does ours) +
// express.json() + express-openapi-validator on generated/openapi.json, whose
// validateSecurity.handlers authenticate + express-rate-limit (memory store, keyed by the
// principal) + a small scope check + better-sqlite3 handlers answering the benchmark's
// routes with the same bodies as ours (GET by id, a list page, POST with its audit entry).
// Nothing is cached between requests: the API key's keyed hash is looked up in SQLite on
// every request and a JWT is verified by jose (ES256, the server's signing key) on every
// request. Not a server to ship (no idempotency, no revocation check of tokens, errors
// mapped roughly); a yardstick. bench/run.ts checks its answers against ours before any
// measurement.
import Database from 'better-sqlite3';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { readFileSync } from 'node:fs';
import { pinoHttp } from 'pino-http';
import { CONTRACT_FILE } from '../../src/contract/operations.ts';
import { keyedHasher } from '../../src/crypto/keyed-hash.ts';
import { newId } from '../../src/domain/ids.ts';

const port = Number(process.env.PORT);
const file = process.env.ASSEMBLY_DB;
const hashSecret = process.env.AETHERFLOW_HASH_SECRET;
const issuer = process.env.PUBLIC_URL;
if (!Number.isInteger(port) || !file || !hashSecret || !issuer)
  throw new Error('PORT, ASSEMBLY_DB, AETHERFLOW_HASH_SECRET and PUBLIC_URL are required');

const db = new Database(file);
db.pragma('journal_mode = WAL');
const hash = keyedHasher(Buffer.from(hashSecret, 'base64'), 'api-key');

interface Principal {
  id: string;
  kind: 'api_key' | 'user' | 'oauth';
  accountId: string;
  projectId: string;
  environment: string;
  scopes: string[];
}
declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

// ---- authentication, called by the validator's security handlers ----

const keyByHash = db.prepare(
  'select k.id, k.account_id, k.project_id, k.environment, k.scopes, k.revoked_at, k.expires_at, s.expires_at as secret_expires_at from api_key_secrets s join api_keys k on k.id = s.key_id where s.hash = ?',
);
const projectAccount = db.prepare('select account_id from projects where id = ?').pluck();
type KeyRow = {
  id: string;
  account_id: string;
  project_id: string;
  environment: string;
  scopes: string;
  revoked_at: string | null;
  expires_at: string | null;
  secret_expires_at: string | null;
};

function apiKeyPrincipal(secret: string): Principal {
  const row = keyByHash.get(hash(secret)) as KeyRow | undefined;
  const now = new Date().toISOString();
  const expired = (at: string | null) => at !== null && at <= now;
  if (!row || row.revoked_at !== null || expired(row.expires_at) || expired(row.secret_expires_at))
    throw unauthorized('invalid_api_key', 'The API key provided is invalid');
  return {
    id: row.id,
    kind: 'api_key',
    accountId: row.account_id,
    projectId: row.project_id,
    environment: row.environment,
    scopes: JSON.parse(row.scopes) as string[],
  };
}

const signingKeys = new Map<string, CryptoKey>();
for (const row of db.prepare('select kid, algorithm, public_jwk from signing_keys').all() as Array<{
  kid: string;
  algorithm: string;
  public_jwk: string;
}>) {
  signingKeys.set(
    row.kid,
    (await importJWK({ ...(JSON.parse(row.public_jwk) as object), alg: row.algorithm }, row.algorithm)) as CryptoKey,
  );
}

async function tokenPrincipal(token: string): Promise<Principal> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid === undefined ? undefined : signingKeys.get(header.kid);
        if (!key) throw new Error('unknown kid');
        return key;
      },
      { algorithms: ['ES256'], issuer, audience: `${issuer}/v1`, typ: 'at+jwt' },
    ));
  } catch {
    throw unauthorized('invalid_token', 'The access token is invalid.');
  }
  const projectId = String(payload.project_id);
  return {
    id: String(payload.sub),
    kind: payload.client_id === undefined ? 'user' : 'oauth',
    accountId: projectAccount.get(projectId) as string,
    projectId,
    // A session acts in its project's live environment (PRODUCT.md).
    environment: 'live',
    scopes: String(payload.scope).split(' '),
  };
}

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** The request's principal, worked out once however many security handlers ask. */
function principalOf(req: Request, credential: string): Promise<Principal> {
  const memo = req as Request & { authenticating?: Promise<Principal> };
  memo.authenticating ??= JWT.test(credential)
    ? tokenPrincipal(credential)
    : Promise.resolve().then(() => apiKeyPrincipal(credential));
  return memo.authenticating;
}

/** The small scope check: every required scope, or the coarse `read` / `write` that covers it. */
function allowed(req: Request, principal: Principal, required: string[]): true {
  const missing = required.filter(
    (scope) => !principal.scopes.includes(scope) && !principal.scopes.includes(scope.slice(scope.indexOf(':') + 1)),
  );
  if (missing.length > 0) throw Object.assign(new Error('insufficient_scope'), { status: 403 });
  req.principal = principal;
  return true;
}

const bearer = (req: Request) => req.headers.authorization?.replace(/^Bearer /i, '') ?? '';
const handlers = {
  ApiKeyHeader: async (req: Request, scopes: string[]) =>
    allowed(req, await principalOf(req, String(req.headers['x-api-key'])), scopes),
  BearerAuth: async (req: Request, scopes: string[]) => allowed(req, await principalOf(req, bearer(req)), scopes),
  OAuth2: async (req: Request, scopes: string[]) => {
    const principal = await principalOf(req, bearer(req));
    return principal.kind === 'oauth' && allowed(req, principal, scopes);
  },
};

function unauthorized(code: string, message: string): Error {
  return Object.assign(new Error(message), { status: 401, code });
}

// ---- the routes: better-sqlite3, the bodies ours answers ----

const COLUMNS =
  'id, name, description, status, trigger_type, event_type, steps, environment, version, created_at, updated_at';
type WorkflowRow = {
  id: string;
  name: string;
  description: string | null;
  status: string;
  trigger_type: string;
  event_type: string | null;
  steps: string;
  environment: string;
  version: number;
  created_at: string;
  updated_at: string;
};
const workflowById = db.prepare(
  `select ${COLUMNS} from workflows where id = ? and project_id = ? and environment = ? and deleted_at is null`,
);
const pageQueries = new Map<string, Database.Statement>();
function pageQuery(filtered: boolean, after: boolean): Database.Statement {
  const name = `${filtered}:${after}`;
  let statement = pageQueries.get(name);
  if (!statement) {
    statement = db.prepare(
      `select ${COLUMNS} from workflows where project_id = @project and environment = @environment and deleted_at is null` +
        (filtered ? ' and status = @status' : '') +
        (after ? ' and (created_at < @createdAt or (created_at = @createdAt and id < @id))' : '') +
        ' order by created_at desc, id desc limit @limit',
    );
    pageQueries.set(name, statement);
  }
  return statement;
}
const insertWorkflow = db.prepare(
  'insert into workflows (id, project_id, environment, name, description, status, trigger_type, event_type, steps, version, created_at, updated_at, deleted_at) ' +
    'values (@id, @project_id, @environment, @name, @description, @status, @trigger_type, @event_type, @steps, 1, @created_at, @created_at, null)',
);
const insertAudit = db.prepare(
  'insert into audit_logs (id, account_id, project_id, environment, occurred_at, action, outcome, actor_type, actor_id, actor_key_id, actor_user_id, actor_client_id, resource_type, resource_id, ip, user_agent, request_id, metadata) ' +
    "values (?, ?, ?, ?, ?, 'workflow.created', 'success', ?, ?, ?, ?, null, 'workflow', ?, ?, ?, ?, '{\"version\":1}')",
);
const createWithAudit = db.transaction((row: Record<string, unknown>, audit: unknown[]) => {
  insertWorkflow.run(row);
  insertAudit.run(...audit);
});

const toWorkflow = (row: WorkflowRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  status: row.status,
  trigger:
    row.trigger_type === 'event' && row.event_type ? { type: 'event', event_type: row.event_type } : { type: 'manual' },
  steps: JSON.parse(row.steps) as unknown,
  environment: row.environment,
  version: row.version,
  created_at: row.created_at,
  updated_at: row.updated_at,
});
const cursorOf = (list: string, row: WorkflowRow) =>
  Buffer.from(JSON.stringify([list, row.created_at, row.id]), 'utf8').toString('base64url');

function notFound(res: Response): void {
  res.status(404).json({
    success: false,
    error: {
      type: 'not_found_error',
      code: 'not_found',
      message: 'No such workflow',
      status: 404,
      request_id: res.getHeader('X-Request-Id'),
    },
  });
}

const app = express();
app.use(helmet());
app.use(
  pinoHttp({
    genReqId: (_req, res) => {
      const id = newId('req');
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // The credential headers must never reach the log.
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
  }),
);
app.use(express.json());
app.use(
  OpenApiValidator.middleware({
    apiSpec: JSON.parse(readFileSync(CONTRACT_FILE, 'utf8')) as never,
    validateRequests: true,
    validateResponses: false,
    validateSecurity: { handlers },
  }),
);
app.use(
  rateLimit({
    windowMs: 60_000,
    limit: 1_000_000_000,
    standardHeaders: 'draft-8',
    legacyHeaders: true,
    keyGenerator: (req) => req.principal?.id ?? 'anonymous',
  }),
);

app.get('/v1/workflows/:workflow_id', (req, res) => {
  const principal = req.principal!;
  const row = workflowById.get(req.params.workflow_id, principal.projectId, principal.environment) as
    WorkflowRow | undefined;
  if (!row) return notFound(res);
  res.json({ success: true, data: toWorkflow(row) });
});

app.get('/v1/workflows', (req, res) => {
  const principal = req.principal!;
  const query = req.query as { limit?: number; cursor?: string; status?: string };
  const limit = Number(query.limit ?? 20);
  const list = `workflows:${query.status ?? ''}`;
  let after: { createdAt: string; id: string } | null = null;
  if (query.cursor !== undefined) {
    const position = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(position) || position[0] !== list)
      return void res
        .status(400)
        .json({ success: false, error: { type: 'invalid_request_error', code: 'invalid_cursor', status: 400 } });
    after = { createdAt: String(position[1]), id: String(position[2]) };
  }
  const rows = pageQuery(query.status !== undefined, after !== null).all({
    project: principal.projectId,
    environment: principal.environment,
    limit: limit + 1,
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(after ?? {}),
  }) as WorkflowRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  res.json({
    success: true,
    data: page.map(toWorkflow),
    next_cursor: rows.length > limit && last ? cursorOf(list, last) : null,
  });
});

app.post('/v1/workflows', (req, res) => {
  const principal = req.principal!;
  const input = req.body as {
    name: string;
    description?: string;
    status?: string;
    trigger: { type: string; event_type?: string };
    steps: Array<{ id: string; type: string; level?: string }>;
  };
  if (new Set(input.steps.map((step) => step.id)).size !== input.steps.length) {
    return void res.status(422).json({
      success: false,
      error: { type: 'invalid_request_error', code: 'invalid_workflow_definition', status: 422 },
    });
  }
  const now = new Date().toISOString();
  const row = {
    id: newId('wf'),
    project_id: principal.projectId,
    environment: principal.environment,
    name: input.name,
    description: input.description ?? null,
    status: input.status ?? 'active',
    trigger_type: input.trigger.type,
    event_type: input.trigger.type === 'event' ? (input.trigger.event_type ?? null) : null,
    steps: JSON.stringify(
      input.steps.map((step) => (step.type === 'log' ? { ...step, level: step.level ?? 'info' } : step)),
    ),
    created_at: now,
  };
  const keyId = principal.kind === 'api_key' ? principal.id : null;
  const userId = principal.kind === 'user' ? principal.id : null;
  createWithAudit(row, [
    newId('aud'),
    principal.accountId,
    principal.projectId,
    principal.environment,
    now,
    principal.kind === 'oauth' ? 'oauth_client' : principal.kind,
    principal.id,
    keyId,
    userId,
    row.id,
    req.ip ?? null,
    req.headers['user-agent'] ?? null,
    req.id,
  ]);
  res.status(201).json({ success: true, data: toWorkflow({ ...row, version: 1, updated_at: now }) });
});

app.use((error: Error & { status?: number; code?: string }, req: Request, res: Response, _next: NextFunction) => {
  const status = error.status ?? 500;
  if (status >= 500) req.log.error({ err: error }, 'request failed');
  res.status(status).json({
    success: false,
    error: {
      type:
        status === 401
          ? 'authentication_error'
          : status === 403
            ? 'authorization_error'
            : status >= 500
              ? 'api_error'
              : 'invalid_request_error',
      code: error.code,
      message: status >= 500 ? 'Internal error' : error.message,
      status,
      request_id: req.id,
    },
  });
});

app.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));
