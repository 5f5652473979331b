// Event ingestion: an accepted event and the runs it starts are written in one
// transaction, so an event is never recorded without its runs or the reverse.
import type { Kysely } from 'kysely';
import type { components } from '../../generated/api.d.ts';
import type { Database } from '../db/schema.ts';
import { transactionOn, type Tx } from '../db/transaction.ts';
import { newId } from './ids.ts';
import type { RunService } from './runs.ts';
import type { Tenant } from '../tenant.ts';
import { iso, type Clock } from './time.ts';
import type { WorkflowService } from './workflows.ts';

export type EventInput = components['schemas']['EventInput'];
export type EventReceipt = components['schemas']['EventReceipt'];

export class EventService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly workflows: WorkflowService,
    private readonly runs: RunService,
  ) {}

  /** In `tx` when given (the unit of work of its audit entries, handlers/events.ts), else in a transaction of its own. */
  async ingest(tenant: Tenant, input: EventInput, tx?: Tx): Promise<EventReceipt> {
    if (!tx) return transactionOn(this.db)((own) => this.ingest(tenant, input, own));
    const receivedAt = iso(this.clock());
    const id = newId('evt');
    const listeners = await this.workflows.listeningTo(tenant, input.type, tx.trx);
    const event = { id, type: input.type, occurred_at: input.occurred_at ?? receivedAt, data: input.data };
    const runRows = listeners.map((workflow) => this.runs.newEventRun(tenant, workflow, event));
    await tx.trx
      .insertInto('events')
      .values({
        id,
        project_id: tenant.projectId,
        environment: tenant.environment,
        type: input.type,
        data: JSON.stringify(input.data),
        occurred_at: input.occurred_at ?? null,
        received_at: receivedAt,
        triggered_runs: JSON.stringify(runRows.map((run) => run.id)),
      })
      .execute();
    if (runRows.length > 0) await tx.trx.insertInto('runs').values(runRows).execute();
    tx.afterCommit(() => this.runs.schedule(runRows.map((run) => run.id)));
    return { id, type: input.type, received_at: receivedAt, triggered_runs: runRows.map((run) => run.id) };
  }
}
