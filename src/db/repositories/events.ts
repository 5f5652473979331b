// The events table: accepted events, written by tenant (with the runs they start, in
// one unit of work: src/domain/events.ts).
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { tenantColumns } from './tenant-query.ts';

export type EventRow = Database['events'];
export type NewEvent = Omit<EventRow, 'project_id' | 'environment'>;

export class EventRepository {
  // Events are only ever written, always with the runs they start: in a unit of work.
  async insert(tenant: Tenant, event: NewEvent, tx: Tx): Promise<void> {
    const { id, ...rest } = event;
    await tx.trx
      .insertInto('events')
      .values({ id, ...tenantColumns(tenant), ...rest })
      .execute();
  }
}
