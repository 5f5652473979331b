// Event ingestion: an accepted event and the runs it starts are written in one
// unit of work, so an event is never recorded without its runs or the reverse.
import type { components } from '../../generated/api.d.ts';
import type { EventRepository } from '../db/repositories/events.ts';
import type { Tx } from '../db/transaction.ts';
import type { Tenant } from '../tenant.ts';
import { newId } from './ids.ts';
import type { RunService } from './runs.ts';
import { iso, type Clock } from './time.ts';
import type { WorkflowService } from './workflows.ts';

export type EventInput = components['schemas']['EventInput'];
export type EventReceipt = components['schemas']['EventReceipt'];

export class EventService {
  constructor(
    private readonly repository: EventRepository,
    private readonly clock: Clock,
    private readonly workflows: WorkflowService,
    private readonly runs: RunService,
  ) {}

  /** In `tx`, the unit of work of its audit entries (handlers/events.ts); the runner hears of the runs once it has committed. */
  async ingest(tenant: Tenant, input: EventInput, tx: Tx): Promise<EventReceipt> {
    const receivedAt = iso(this.clock());
    const id = newId('evt');
    const listeners = await this.workflows.listeningTo(tenant, input.type, tx);
    const event = { id, type: input.type, occurred_at: input.occurred_at ?? receivedAt, data: input.data };
    const runs = this.runs.newEventRuns(listeners, event);
    const runIds = runs.map((run) => run.id);
    await this.repository.insert(
      tenant,
      {
        id,
        type: input.type,
        data: JSON.stringify(input.data),
        occurred_at: input.occurred_at ?? null,
        received_at: receivedAt,
        triggered_runs: JSON.stringify(runIds),
      },
      tx,
    );
    await this.runs.startEventRuns(tenant, runs, tx);
    return { id, type: input.type, received_at: receivedAt, triggered_runs: runIds };
  }
}
