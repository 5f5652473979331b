// Baseline: the least an Express 5 server can do for GET /v1/workflows/{id} while doing
// the work the contract asks of every such request, written by hand for this one route:
// a request id, the security headers, the API key looked up by its keyed hash in a warm
// in-memory map (and PRAGMA data_version read, as ours does, so that another process's
// revocation would be seen; on a change the map is emptied and the key read again from
// the database), the key's scope, four rate-limit counters and their five headers, the
// path parameter's pattern, the row's id and version read from SQLite with the answer's
// JSON text kept per version, and the request's log line. No contract validator, no
// error envelope, no audit, no generality: what a server with our duties could reach at
// best on this machine, measured against bare Express in the same run.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import express from 'express';
import pino from 'pino';
import { expandScopes } from '../../src/auth/scopes.ts';
import { keyedHasher } from '../../src/crypto/keyed-hash.ts';

const port = Number(process.env.PORT);
const file = process.env.FLOOR_DB;
const hashSecret = process.env.AETHERFLOW_HASH_SECRET;
if (!Number.isInteger(port) || !file || !hashSecret) throw new Error('PORT, FLOOR_DB and AETHERFLOW_HASH_SECRET are required');

const sqlite = new Database(file);
sqlite.pragma('journal_mode = WAL');
const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
const keyByHash = sqlite.prepare('select k.id, k.account_id, k.project_id, k.environment, k.scopes, k.revoked_at from api_key_secrets s join api_keys k on k.id = s.key_id where s.hash = ?');
const byId = sqlite
  .prepare('select id, version, environment, name, description, status, trigger_type, event_type, steps, created_at, updated_at from workflows where id = ? and project_id = ? and environment = ? and deleted_at is null')
  .raw();
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
const policyHeader = policies.map(([name, seconds]) => `"${name}";q=${LIMIT};w=${seconds}`).join(', ');
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
let pool = Buffer.alloc(0);
let offset = 0;
function requestId(): string {
  if (offset + 18 > pool.length) {
    pool = randomBytes(18 * 512);
    offset = 0;
  }
  offset += 18;
  return `req_${pool.toString('base64url', offset - 18, offset)}`;
}

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
app.use(express.json());
app.get('/v1/workflows/:workflow_id', (req, res) => {
  const started = Date.now();
  const id = requestId();
  res.setHeader('X-Request-Id', id);
  for (const [name, value] of security) res.setHeader(name, value);
  const header = req.headers.authorization;
  const key = header?.startsWith('Bearer ') ? keyOf(header.slice(7)) : null;
  if (!key || !key.scopes.has('workflows:read')) return void res.status(401).end();
  const now = Math.floor(started / 1000);
  let remaining = LIMIT;
  for (const [name, seconds] of policies) {
    const counterKey = `rl:${name}:${name === 'api-key' ? key.id : key.accountId}`;
    const window = Math.floor(now / seconds);
    let counter = counters.get(counterKey);
    if (!counter || counter.window !== window) counters.set(counterKey, (counter = { window, count: 0 }));
    counter.count += 1;
    remaining = Math.min(remaining, LIMIT - counter.count);
  }
  res.setHeader('X-RateLimit-Limit', String(LIMIT));
  res.setHeader('X-RateLimit-Remaining', String(remaining));
  res.setHeader('X-RateLimit-Reset', String(now + 60));
  res.setHeader('RateLimit-Policy', policyHeader);
  res.setHeader('RateLimit', `"api-key";r=${remaining};t=3600`);
  const workflowId = req.params.workflow_id;
  if (!/^wf_[0-9A-Za-z]{24}$/.test(workflowId)) return void res.status(400).end();
  const row = byId.get(workflowId, key.projectId, key.environment) as Array<string | number | null> | undefined;
  if (!row) return void res.status(404).end();
  const version = `${row[0]}:${row[1]}`;
  let text = kept.get(version);
  if (text === undefined) {
    const [wid, wversion, environment, name, description, status, triggerType, eventType, steps, createdAt, updatedAt] = row;
    const trigger = eventType === null ? { type: triggerType } : { type: triggerType, event_type: eventType };
    text = JSON.stringify({ success: true, data: { id: wid, name, description, status, trigger, steps: JSON.parse(steps as string), environment, version: wversion, created_at: createdAt, updated_at: updatedAt } });
    kept.set(version, text);
  }
  res.on('finish', () => {
    log.info({ req_id: id, method: req.method, path: '/v1/workflows/{workflow_id}', operation: 'getWorkflow', status: res.statusCode, ms: Date.now() - started, ip: req.socket.remoteAddress, principal: key.id }, 'request');
  });
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
});
app.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));
