// Baseline: the least an Express 5 server can do for the benchmark's three routes while
// doing the work the contract asks of each request, written by hand for these routes:
// a request id, the security headers, the API key looked up by its keyed hash in a warm
// in-memory map, or an access token (JWT) verified once (ES256 against the server's
// signing key, with its family and revocation read from SQLite) and then found in a warm
// map until it expires (and PRAGMA data_version read, as ours does, so that another
// process's revocation would be seen; on a change both maps are emptied), the scope, four
// rate-limit counters and their five headers, the request's log line, and then:
// - GET by id: the path parameter's pattern, the row read from SQLite, the answer's JSON
//   text kept per id and version;
// - the list: the page's ids, versions and creation times read from SQLite (20 + 1), the
//   kept texts joined, the next cursor;
// - POST: the body checked by Ajv against the contract's WorkflowInput schema, the
//   workflow and its audit entry inserted in one transaction, shared by the creations of
//   one turn of the event loop (group commit, as ours does, without the savepoints that
//   keep one failing creation from failing its group).
// No contract validator middleware, no error envelope, no idempotency, no generality:
// what a server with our duties could reach at best on this machine, measured against
// bare Express in the same run.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import Database from 'better-sqlite3';
import express, { type Request, type Response } from 'express';
import { importJWK, jwtVerify, type CryptoKey } from 'jose';
import pino from 'pino';
import { expandScopes } from '../../src/auth/scopes.ts';
import { loadContract } from '../../src/contract/operations.ts';
import { keyedHasher } from '../../src/crypto/keyed-hash.ts';
import { newId } from '../../src/domain/ids.ts';
import { encodeCursor } from '../../src/domain/pagination.ts';
import { toWorkflow } from '../../src/domain/workflows.ts';

const port = Number(process.env.PORT);
const file = process.env.FLOOR_DB;
const hashSecret = process.env.AETHERFLOW_HASH_SECRET;
const publicUrl = process.env.PUBLIC_URL;
if (!Number.isInteger(port) || !file || !hashSecret || !publicUrl)
  throw new Error('PORT, FLOOR_DB, AETHERFLOW_HASH_SECRET and PUBLIC_URL are required');

const sqlite = new Database(file);
sqlite.pragma('journal_mode = WAL');
const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
const keyByHash = sqlite.prepare(
  'select k.id, k.account_id, k.project_id, k.environment, k.scopes, k.revoked_at from api_key_secrets s join api_keys k on k.id = s.key_id where s.hash = ?',
);
const COLUMNS =
  'id, project_id, environment, name, description, status, trigger_type, event_type, steps, version, created_at, updated_at, deleted_at';
const byId = sqlite.prepare(
  `select ${COLUMNS} from workflows where id = ? and project_id = ? and environment = ? and deleted_at is null`,
);
const pageKeys = sqlite
  .prepare(
    'select id, version, created_at from workflows where project_id = ? and environment = ? and deleted_at is null order by created_at desc, id desc limit 21',
  )
  .raw();
const insertWorkflow = sqlite.prepare(
  `insert into workflows (${COLUMNS}) values (@id, @project_id, @environment, @name, @description, @status, @trigger_type, @event_type, @steps, @version, @created_at, @updated_at, @deleted_at)`,
);
const insertAudit = sqlite.prepare(
  'insert into audit_logs (id, account_id, project_id, environment, occurred_at, action, outcome, actor_type, actor_id, actor_key_id, actor_user_id, actor_client_id, resource_type, resource_id, ip, user_agent, request_id, metadata) ' +
    "values (?, ?, ?, ?, ?, 'workflow.created', 'success', 'api_key', ?, ?, null, null, 'workflow', ?, ?, ?, ?, '{\"version\":1}')",
);
// Creations waiting for the next commit: everything that arrived in one turn of the event
// loop commits together and is answered after the commit (group commit, as ours does).
type Creation = { row: Record<string, unknown>; audit: unknown[]; done: () => void };
let waiting: Creation[] = [];
const commitAll = sqlite.transaction((creations: Creation[]) => {
  for (const { row, audit } of creations) {
    insertWorkflow.run(row);
    insertAudit.run(...audit);
  }
});
function create(creation: Creation): void {
  waiting.push(creation);
  if (waiting.length > 1) return;
  setImmediate(() => {
    const group = waiting;
    waiting = [];
    commitAll(group);
    for (const { done } of group) done();
  });
}
const document = loadContract().document as { components: unknown };
const ajv = new Ajv2020({ strict: false, allErrors: false });
(addFormatsModule as unknown as (instance: Ajv2020) => Ajv2020)(ajv);
const validWorkflow = ajv.compile({ $ref: '#/components/schemas/WorkflowInput', components: document.components });
const hash = keyedHasher(Buffer.from(hashSecret, 'base64'), 'api-key');

interface Key {
  id: string;
  accountId: string;
  projectId: string;
  environment: string;
  scopes: Set<string>;
  /** The rate-limit policy of its kind of credential, and what its counter is keyed by. */
  method: 'api-key' | 'jwt';
}
/** API keys by keyed hash, access tokens by their text: both emptied when another process commits. */
const keys = new Map<string, Key | null>();
const tokens = new Map<string, { key: Key | null; exp: number }>();
let seenVersion = dataVersion.get();
function noteDataVersion(): void {
  const version = dataVersion.get();
  if (version !== seenVersion) {
    keys.clear();
    tokens.clear();
    seenVersion = version;
  }
}
function keyOf(secret: string): Key | null {
  noteDataVersion();
  const hashed = hash(secret);
  let key = keys.get(hashed);
  if (key === undefined) {
    const row = keyByHash.get(hashed) as
      | {
          id: string;
          account_id: string;
          project_id: string;
          environment: string;
          scopes: string;
          revoked_at: string | null;
        }
      | undefined;
    key =
      row && row.revoked_at === null
        ? {
            id: row.id,
            accountId: row.account_id,
            projectId: row.project_id,
            environment: row.environment,
            scopes: expandScopes(JSON.parse(row.scopes) as string[]),
            method: 'api-key',
          }
        : null;
    keys.set(hashed, key);
  }
  return key;
}

// Access tokens: the signature, issuer, audience and type checked once per token (as ours
// caches verified claims until `exp`), with the token's revocation (its jti and its family)
// and its family's project and environment read with it.
const verificationKeys = new Map<string, CryptoKey>();
for (const row of sqlite.prepare('select kid, algorithm, public_jwk from signing_keys').all() as Array<{
  kid: string;
  algorithm: string;
  public_jwk: string;
}>) {
  verificationKeys.set(
    row.kid,
    (await importJWK({ ...(JSON.parse(row.public_jwk) as object), alg: row.algorithm }, row.algorithm)) as CryptoKey,
  );
}
const familyById = sqlite.prepare(
  'select account_id, project_id, environment, revoked_at from token_families where id = ?',
);
const anyRevoked = sqlite.prepare('select 1 from revoked_tokens where id in (?, ?) limit 1').pluck();
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

function cachedToken(token: string): Key | null | undefined {
  noteDataVersion();
  const known = tokens.get(token);
  if (known === undefined) return undefined;
  if (Date.now() / 1000 < known.exp) return known.key;
  tokens.delete(token);
  return undefined;
}

async function verifyToken(token: string): Promise<Key | null> {
  let key: Key | null = null;
  let exp = Infinity;
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => verificationKeys.get(header.kid ?? '') ?? Promise.reject(new Error('unknown kid')),
      {
        algorithms: ['ES256'],
        issuer: publicUrl,
        audience: `${publicUrl}/v1`,
        typ: 'at+jwt',
      },
    );
    exp = payload.exp!;
    const family = familyById.get(payload.sid) as
      { account_id: string; project_id: string; environment: string; revoked_at: string | null } | undefined;
    if (
      family &&
      family.revoked_at === null &&
      family.project_id === payload.project_id &&
      anyRevoked.get(payload.jti, payload.sid) === undefined
    ) {
      key = {
        id: String(payload.sub),
        accountId: family.account_id,
        projectId: family.project_id,
        environment: family.environment,
        scopes: expandScopes(String(payload.scope).split(' ')),
        method: 'jwt',
      };
    }
  } catch {
    key = null;
  }
  tokens.set(token, { key, exp: Number.isFinite(exp) ? exp : Date.now() / 1000 + 60 });
  return key;
}

const kept = new Map<string, string>();
const counters = new Map<string, { window: number; count: number }>();
const LIMIT = 1_000_000_000;
const policies = [
  ['plan-minute', 60],
  ['plan-hour', 3600],
  ['read', 60],
  ['credential', 3600],
] as const;
/** A policy's name: the category's for `read`, the credential's kind for `credential`. */
const policyName = (name: (typeof policies)[number][0], category: 'read' | 'write', method: Key['method']) =>
  name === 'read' ? category : name === 'credential' ? method : name;
const policyHeader = (category: 'read' | 'write', method: Key['method']) =>
  policies.map(([name, seconds]) => `"${policyName(name, category, method)}";q=${LIMIT};w=${seconds}`).join(', ');
const policyHeaders = {
  read: { 'api-key': policyHeader('read', 'api-key'), jwt: policyHeader('read', 'jwt') },
  write: { 'api-key': policyHeader('write', 'api-key'), jwt: policyHeader('write', 'jwt') },
};
const security: Array<[string, string]> = [
  [
    'Content-Security-Policy',
    "default-src 'none';style-src 'unsafe-inline';form-action 'self';frame-ancestors 'none';base-uri 'none'",
  ],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=63072000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'DENY'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];
const log = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime });

/** The data part of a workflow's answer, as JSON text, kept per id and version. */
function workflowText(row: Parameters<typeof toWorkflow>[0]): string {
  const version = `${row.id}:${row.version}`;
  let text = kept.get(version);
  if (text === undefined) {
    text = JSON.stringify(toWorkflow(row));
    kept.set(version, text);
  }
  return text;
}

/**
 * What every request gets: its id, the security headers, its key (or token) and scope, its
 * counters and their headers, its log line; then `handle` runs with the key. Synchronous
 * but for a token's first request, which waits for its signature check.
 */
function begin(
  req: Request,
  res: Response,
  scope: string,
  category: 'read' | 'write',
  handle: (key: Key) => void,
): void {
  const started = Date.now();
  const id = newId('req');
  res.setHeader('X-Request-Id', id);
  for (const [name, value] of security) res.setHeader(name, value);
  const header = req.headers.authorization;
  const credential = header?.startsWith('Bearer ') ? header.slice(7) : null;
  const token = credential !== null && JWT.test(credential) ? credential : null;
  const key = token === null ? (credential === null ? null : keyOf(credential)) : cachedToken(token);
  if (key === undefined) {
    void verifyToken(token!).then(
      (verified) => admit(req, res, scope, category, verified, id, started) && handle(verified!),
    );
  } else if (admit(req, res, scope, category, key, id, started)) {
    handle(key!);
  }
}

/** The key's scope, counters and headers, and the log line: false when the request is refused. */
function admit(
  req: Request,
  res: Response,
  scope: string,
  category: 'read' | 'write',
  key: Key | null,
  id: string,
  started: number,
): boolean {
  if (!key || !key.scopes.has(scope)) {
    res.status(401).end();
    return false;
  }
  const now = Math.floor(started / 1000);
  let remaining = LIMIT;
  for (const [name, seconds] of policies) {
    const counterKey = `rl:${policyName(name, category, key.method)}:${name === 'credential' ? key.id : key.accountId}`;
    const window = Math.floor(now / seconds);
    let counter = counters.get(counterKey);
    if (!counter || counter.window !== window) counters.set(counterKey, (counter = { window, count: 0 }));
    counter.count += 1;
    remaining = Math.min(remaining, LIMIT - counter.count);
  }
  res.setHeader('X-RateLimit-Limit', String(LIMIT));
  res.setHeader('X-RateLimit-Remaining', String(remaining));
  res.setHeader('X-RateLimit-Reset', String(now + 60));
  res.setHeader('RateLimit-Policy', policyHeaders[category][key.method]);
  res.setHeader('RateLimit', `"${key.method}";r=${remaining};t=3600`);
  res.on('finish', () => {
    log.info(
      {
        req_id: id,
        method: req.method,
        path: req.route?.path ?? null,
        status: res.statusCode,
        ms: Date.now() - started,
        ip: req.socket.remoteAddress,
        principal: key.id,
      },
      'request',
    );
  });
  res.locals.requestId = id;
  return true;
}

function answer(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
app.use(express.json());
app.get('/v1/workflows/:workflow_id', (req, res) =>
  begin(req, res, 'workflows:read', 'read', (key) => getById(req, res, key)),
);
app.get('/v1/workflows', (req, res) => begin(req, res, 'workflows:read', 'read', (key) => listPage(res, key)));
app.post('/v1/workflows', (req, res) =>
  begin(req, res, 'workflows:write', 'write', (key) => createWorkflow(req, res, key)),
);
app.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));

function getById(req: Request, res: Response, key: Key): void {
  const workflowId = String(req.params.workflow_id);
  if (!/^wf_[0-9A-Za-z]{24}$/.test(workflowId)) return void res.status(400).end();
  const row = byId.get(workflowId, key.projectId, key.environment) as Parameters<typeof toWorkflow>[0] | undefined;
  if (!row) return void res.status(404).end();
  answer(res, 200, `{"success":true,"data":${workflowText(row)}}`);
}

function listPage(res: Response, key: Key): void {
  const rows = pageKeys.all(key.projectId, key.environment) as Array<[string, number, string]>;
  const texts: string[] = [];
  for (const [id, version] of rows.slice(0, 20)) {
    let text = kept.get(`${id}:${version}`);
    if (text === undefined)
      text = workflowText(byId.get(id, key.projectId, key.environment) as Parameters<typeof toWorkflow>[0]);
    texts.push(text);
  }
  const last = rows[19];
  const next = rows.length > 20 && last ? encodeCursor('workflows:', { createdAt: last[2], id: last[0] }) : null;
  answer(res, 200, `{"success":true,"data":[${texts.join(',')}],"next_cursor":${JSON.stringify(next)}}`);
}

function createWorkflow(req: Request, res: Response, key: Key): void {
  const input = req.body as {
    name: string;
    description?: string;
    status?: string;
    trigger: { type: string; event_type?: string };
    steps: Array<{ id: string; type: string; level?: string }>;
  };
  if (!validWorkflow(input) || new Set(input.steps.map((step) => step.id)).size !== input.steps.length)
    return void res.status(400).end();
  const now = new Date().toISOString();
  const row = {
    id: newId('wf'),
    project_id: key.projectId,
    environment: key.environment,
    name: input.name,
    description: input.description ?? null,
    status: input.status ?? 'active',
    trigger_type: input.trigger.type,
    event_type: input.trigger.type === 'event' ? (input.trigger.event_type ?? null) : null,
    steps: JSON.stringify(
      input.steps.map((step) => (step.type === 'log' ? { ...step, level: step.level ?? 'info' } : step)),
    ),
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  const audit = [
    newId('aud'),
    key.accountId,
    key.projectId,
    key.environment,
    now,
    key.id,
    key.id,
    row.id,
    req.socket.remoteAddress ?? null,
    req.headers['user-agent'] ?? null,
    res.locals.requestId,
  ];
  // Not kept: a new workflow is read again only by a GET, and keeping every one would grow without bound.
  const text = JSON.stringify(toWorkflow(row as Parameters<typeof toWorkflow>[0]));
  create({ row, audit, done: () => answer(res, 201, `{"success":true,"data":${text}}`) });
}
