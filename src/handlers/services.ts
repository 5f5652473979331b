// What handlers may use: the application's services, built once in the
// composition root (src/app.ts) and handed to the handler factories.
import type { AuditLog } from '../audit/audit-log.ts';
import type { ApiKeyService } from '../auth/api-keys.ts';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { ConnectionService } from '../domain/connections.ts';
import type { EventService } from '../domain/events.ts';
import type { RunService } from '../domain/runs.ts';
import type { Clock } from '../domain/time.ts';
import type { WorkflowService } from '../domain/workflows.ts';

/** Runs `work` in one database transaction: everything it writes through `trx` commits together, or nothing does. */
export type Transaction = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

export interface Services {
  config: Config;
  transaction: Transaction;
  clock: Clock;
  audit: AuditLog;
  apiKeys: ApiKeyService;
  workflows: WorkflowService;
  runs: RunService;
  connections: ConnectionService;
  events: EventService;
}
