// Baseline: the least an Express 5 server can do for the benchmark's three routes while
// doing the work the contract asks of each request, written by hand for these routes:
// a request id, the security headers, the API key looked up by its keyed hash in a warm
// in-memory map (and PRAGMA data_version read, as ours does, so that another process's
// revocation would be seen; on a change the map is emptied and the key read again from
// the database), the key's scope, four rate-limit counters and their five headers, the
// request's log line, and then:
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
if (!Number.isInteger(port) || !file || !hashSecret) throw new Error('PORT, FLOOR_DB and AETHERFLOW_HASH_SECRET are required');

const sqlite = new Database(file);
sqlite.pragma('journal_mode = WAL');
const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
const keyByHash = sqlite.prepare('select k.id, k.account_id, k.project_id, k.environment, k.scopes, k.revoked_at from api_key_secrets s join api_keys k on k.id = s.key_id where s.hash = ?');
const COLUMNS = 'id, project_id, environment, name, description, status, trigger_type, event_type, steps, version, created_at, updated_at, deleted_at';
const byId = sqlite.prepare(`select ${COLUMNS} from workflows where id = ? and project_id = ? and environment = ? and deleted_at is null`);
const pageKeys = sqlite
  .prepare('select id, version, created_at from workflows where project_id = ? and environment = ? and deleted_at is null order by created_at desc, id desc limit 21')
  .raw();
const insertWorkflow = sqlite.prepare(`insert into workflows (${COLUMNS}) values (@id, @project_id, @environment, @name, @description, @status, @trigger_type, @event_type, @steps, @version, @created_at, @updated_at, @deleted_at)`);
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
}
const keys = new Map<string, Key | null>();
let seenVersion = dataVersion.get();
function keyOf(secret: string): Key | null {
  const version = dataVersion.get();
  if (version !== seenVersion) {
    keys.clear();
    seenVersion = version;
  }
  const hashed = hash(secret);
  let key = keys.get(hashed);
  if (key === undefined) {
    const row = keyByHash.get(hashed) as { id: string; account_id: string; project_id: string; environment: string; scopes: string; revoked_at: string | null } | undefined;
    key = row && row.revoked_at === null ? { id: row.id, accountId: row.account_id, projectId: row.project_id, environment: row.environment, scopes: expandScopes(JSON.parse(row.scopes) as string[]) } : null;
    keys.set(hashed, key);
  }
  return key;
}

const kept = new Map<string, string>();
const counters = new Map<string, { window: number; count: number }>();
const LIMIT = 1_000_000_000;
const policies = [
  ['plan-minute', 60],
  ['plan-hour', 3600],
  ['read', 60],
  ['api-key', 3600],
] as const;
const policyHeader = (category: 'read' | 'write') => policies.map(([name, seconds]) => `"${name === 'read' ? category : name}";q=${LIMIT};w=${seconds}`).join(', ');
const policyHeaders = { read: policyHeader('read'), write: policyHeader('write') };
const security: Array<[string, string]> = [
  ['Content-Security-Policy', "default-src 'none';style-src 'unsafe-inline';form-action 'self';frame-ancestors 'none';base-uri 'none'"],
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

/** What every request gets: its id, the security headers, its key and scope, its counters and their headers, its log line. */
function begin(req: Request, res: Response, scope: string, category: 'read' | 'write'): Key | null {
  const started = Date.now();
  const id = newId('req');
  res.setHeader('X-Request-Id', id);
  for (const [name, value] of security) res.setHeader(name, value);
  const header = req.headers.authorization;
  const key = header?.startsWith('Bearer ') ? keyOf(header.slice(7)) : null;
  if (!key || !key.scopes.has(scope)) {
    res.status(401).end();
    return null;
  }
  const now = Math.floor(started / 1000);
  let remaining = LIMIT;
  for (const [name, seconds] of policies) {
    const counterKey = `rl:${name === 'read' ? category : name}:${name === 'api-key' ? key.id : key.accountId}`;
    const window = Math.floor(now / seconds);
    let counter = counters.get(counterKey);
    if (!counter || counter.window !== window) counters.set(counterKey, (counter = { window, count: 0 }));
    counter.count += 1;
    remaining = Math.min(remaining, LIMIT - counter.count);
  }
  res.setHeader('X-RateLimit-Limit', String(LIMIT));
  res.setHeader('X-RateLimit-Remaining', String(remaining));
  res.setHeader('X-RateLimit-Reset', String(now + 60));
  res.setHeader('RateLimit-Policy', policyHeaders[category]);
  res.setHeader('RateLimit', `"api-key";r=${remaining};t=3600`);
  res.on('finish', () => {
    log.info({ req_id: id, method: req.method, path: req.route?.path ?? null, status: res.statusCode, ms: Date.now() - started, ip: req.socket.remoteAddress, principal: key.id }, 'request');
  });
  res.locals.requestId = id;
  return key;
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
app.get('/v1/workflows/:workflow_id', (req, res) => {
  const key = begin(req, res, 'workflows:read', 'read');
  if (!key) return;
  const workflowId = req.params.workflow_id;
  if (!/^wf_[0-9A-Za-z]{24}$/.test(workflowId)) return void res.status(400).end();
  const row = byId.get(workflowId, key.projectId, key.environment) as Parameters<typeof toWorkflow>[0] | undefined;
  if (!row) return void res.status(404).end();
  answer(res, 200, `{"success":true,"data":${workflowText(row)}}`);
});
app.get('/v1/workflows', (req, res) => {
  const key = begin(req, res, 'workflows:read', 'read');
  if (!key) return;
  const rows = pageKeys.all(key.projectId, key.environment) as Array<[string, number, string]>;
  const texts: string[] = [];
  for (const [id, version] of rows.slice(0, 20)) {
    let text = kept.get(`${id}:${version}`);
    if (text === undefined) text = workflowText(byId.get(id, key.projectId, key.environment) as Parameters<typeof toWorkflow>[0]);
    texts.push(text);
  }
  const last = rows[19];
  const next = rows.length > 20 && last ? encodeCursor('workflows:', { createdAt: last[2], id: last[0] }) : null;
  answer(res, 200, `{"success":true,"data":[${texts.join(',')}],"next_cursor":${JSON.stringify(next)}}`);
});
app.post('/v1/workflows', (req, res) => {
  const key = begin(req, res, 'workflows:write', 'write');
  if (!key) return;
  const input = req.body as { name: string; description?: string; status?: string; trigger: { type: string; event_type?: string }; steps: Array<{ id: string; type: string; level?: string }> };
  if (!validWorkflow(input) || new Set(input.steps.map((step) => step.id)).size !== input.steps.length) return void res.status(400).end();
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
    steps: JSON.stringify(input.steps.map((step) => (step.type === 'log' ? { ...step, level: step.level ?? 'info' } : step))),
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  const audit = [newId('aud'), key.accountId, key.projectId, key.environment, now, key.id, key.id, row.id, req.socket.remoteAddress ?? null, req.headers['user-agent'] ?? null, res.locals.requestId];
  // Not kept: a new workflow is read again only by a GET, and keeping every one would grow without bound.
  const text = JSON.stringify(toWorkflow(row as Parameters<typeof toWorkflow>[0]));
  create({ row, audit, done: () => answer(res, 201, `{"success":true,"data":${text}}`) });
});
app.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));
