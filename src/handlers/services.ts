// What handlers may use: the application's services, built once in the
// composition root (src/app.ts) and handed to the handler factories.
import type { AuditLog } from '../audit/audit-log.ts';
import type { ApiKeyManagement } from '../auth/api-key-management.ts';
import type { Config } from '../config.ts';
import type { Transaction } from '../db/transaction.ts';
import type { ConnectionService } from '../domain/connections.ts';
import type { EventService } from '../domain/events.ts';
import type { RunService } from '../domain/runs.ts';
import type { Clock } from '../domain/time.ts';
import type { WorkflowService } from '../domain/workflows.ts';

export interface Services {
  config: Config;
  transaction: Transaction;
  clock: Clock;
  audit: AuditLog;
  apiKeys: ApiKeyManagement;
  workflows: WorkflowService;
  runs: RunService;
  connections: ConnectionService;
  events: EventService;
}
