// Small helpers of the authentication, API-key, leaked-key and tenancy tests: a
// clock the test moves, client addresses through a trusted proxy, a valid
// workflow, keys that are malformed on purpose, and reads of what the server
// stored (rows, audit entries, SQL it ran).
import { generateApiKey } from '../../src/auth/api-key-format.ts';
import type { Clock } from '../../src/domain/time.ts';
import type { components, operations } from '../../generated/api.d.ts';
import { clientFor } from '../support/api.ts';
import type { Tenant } from '../support/fixtures.ts';
import type { TestServer } from '../support/server.ts';

/** A clock that stands still until the test moves it. */
export interface ManualClock {
  clock: Clock;
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.parse('2026-11-22T09:30:00.000Z')): ManualClock {
  let now = start;
  return {
    clock: () => now,
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** The environment a server needs to believe X-Forwarded-* from the loopback test client. */
export const BEHIND_PROXY = { TRUSTED_PROXIES: '127.0.0.1' };

/** Headers a trusted proxy adds for a remote HTTPS client at `ip`. */
export function fromIp(ip: string): Record<string, string> {
  return { 'X-Forwarded-For': ip, 'X-Forwarded-Proto': 'https' };
}

type WorkflowInput = components['schemas']['WorkflowInput'];
type ApiKeyCreate = components['schemas']['ApiKeyCreate'];

export function workflowInput(
  name = 'Order confirmation',
  trigger: WorkflowInput['trigger'] = { type: 'manual' },
): WorkflowInput {
  return {
    name,
    description: 'Confirms each new order to the customer.',
    trigger,
    steps: [
      { id: 'remember', type: 'set', values: { region: '{{input.region}}' } },
      { id: 'announce', type: 'log', message: 'Region {{vars.region}}' },
    ],
  };
}

/** Creates a workflow with `key` and returns its id; fails loudly if the server refuses. */
export async function createWorkflow(
  server: TestServer,
  key: string,
  name?: string,
  trigger?: WorkflowInput['trigger'],
): Promise<string> {
  const response = await clientFor(server, key).POST('/v1/workflows', { body: workflowInput(name, trigger) });
  if (response.status !== 201)
    throw new Error(`set-up: POST /v1/workflows answered ${response.status} ${response.text}`);
  return response.data!.data.id;
}

export interface CreatedKey {
  id: string;
  secret: string;
  prefix: string;
  last4: string;
  [field: string]: unknown;
}

/** Creates a key through the API as `creator`; fails loudly if the server refuses. */
export async function createKeyViaApi(
  server: TestServer,
  creator: string,
  body: Omit<ApiKeyCreate, 'name'> & { name?: string },
): Promise<CreatedKey> {
  const response = await clientFor(server, creator).POST('/v1/auth/api-keys', {
    body: { name: 'Created in a test', ...body },
  });
  if (response.status !== 201)
    throw new Error(`set-up: POST /v1/auth/api-keys answered ${response.status} ${response.text}`);
  return response.data!.data;
}

/** The key with one character of its random part changed: well-formed, wrong checksum. */
export function withBadChecksum(key: string): string {
  const at = 12; // inside the 32 random characters, after `sk_test_`
  const replacement = key[at] === 'A' ? 'B' : 'A';
  return key.slice(0, at) + replacement + key.slice(at + 1);
}

/** A key of the right shape and checksum that the server never issued. */
export function unknownWellFormedKey(type: 'sk' | 'rk' | 'ck' = 'sk', env: 'live' | 'test' = 'test'): string {
  const types = { sk: 'secret', rk: 'restricted', ck: 'client' } as const;
  return generateApiKey(types[type], env);
}

/** The 30 characters of a key that neither its display prefix (12) nor its last4 reveal. */
export function hiddenPart(secret: string): string {
  return secret.slice(12, -4);
}

/** Audit rows with this action, from the database (entries without a tenant are listed by no API call). */
export async function auditRows(server: TestServer, action: string) {
  return server.server.database.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('action', '=', action)
    .orderBy('occurred_at', 'asc')
    .execute();
}

/** The audit entries a tenant sees through GET /v1/audit-logs, read with a fresh audit:read key of that tenant. */
export async function auditEntriesOf(
  server: TestServer,
  tenant: Tenant,
  environment: 'live' | 'test',
  query: NonNullable<operations['listAuditLogs']['parameters']['query']> = {},
): Promise<components['schemas']['AuditLogEntry'][]> {
  const reader = await tenant.key({ environment, scopes: ['audit:read'] });
  const response = await clientFor(server, reader.secret).GET('/v1/audit-logs', { params: { query } });
  if (response.status !== 200) throw new Error(`GET /v1/audit-logs answered ${response.status} ${response.text}`);
  return response.data!.data;
}

/** Records the SQL the server runs between start() and stop(). */
export function queryRecorder() {
  let recording: string[] | null = null;
  return {
    observe: (sql: string) => {
      recording?.push(sql);
    },
    start() {
      recording = [];
    },
    stop(): string[] {
      const seen = recording ?? [];
      recording = null;
      return seen;
    },
  };
}
