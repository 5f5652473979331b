// The runs table, in two parts. RunRepository: what a tenant's requests do with runs,
// every query by tenant. RunExecution: what the step runner does with the runs it was
// handed (by id, whatever their tenant: the id came from a tenant's own request) or
// finds unfinished, every write guarded by `status = 'running' AND lease_owner = me` so
// that a cancellation or a takeover is never overwritten.
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenant, tenantColumns, updateTenant } from './tenant-query.ts';

export type RunRow = Database['runs'];
/** What starting a run writes besides the tenant. */
export type NewRun = Omit<RunRow, 'project_id' | 'environment'>;

export class RunRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The tenant's run `id` (GET). */
  find(tenant: Tenant, id: string): Promise<RunRow | undefined> {
    return selectTenant(this.db, 'runs', tenant).selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The tenant's run `id` as `tx` sees it (a retry, a cancellation). */
  findIn(tenant: Tenant, id: string, tx: Tx): Promise<RunRow | undefined> {
    return selectTenant(tx.trx, 'runs', tenant).selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A page of the tenant's runs, newest first. */
  page(
    tenant: Tenant,
    filters: { workflow_id?: string; status?: RunRow['status'] },
    position: PagePosition | null,
    limit: number,
  ): Promise<RunRow[]> {
    let query = selectTenant(this.db, 'runs', tenant).selectAll();
    if (filters.workflow_id) query = query.where('workflow_id', '=', filters.workflow_id);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (position) query = query.where(afterPosition(position));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Writes new runs of the tenant in `tx`; returns their rows. */
  async insert(tenant: Tenant, runs: readonly NewRun[], tx: Tx): Promise<RunRow[]> {
    const rows = runs.map(({ id, ...rest }): RunRow => ({ id, ...tenantColumns(tenant), ...rest }));
    if (rows.length > 0) await tx.trx.insertInto('runs').values(rows).execute();
    return rows;
  }

  /**
   * Cancels the tenant's run, guarded by the status and step results the caller read: false
   * when the runner moved on meanwhile (the caller reads again).
   */
  async cancel(
    tenant: Tenant,
    id: string,
    seen: Pick<RunRow, 'status' | 'step_results'>,
    cancelled: Pick<RunRow, 'step_results' | 'output' | 'finished_at'>,
    tx: Tx,
  ): Promise<boolean> {
    const updated = await updateTenant(tx.trx, 'runs', tenant)
      .set({ status: 'cancelled', ...cancelled })
      .where('id', '=', id)
      .where('status', '=', seen.status)
      .where('step_results', '=', seen.step_results)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }
}

/** The runs' execution, each run by the instance (`owner`) holding its lease; each statement commits on its own. */
export class RunExecution {
  constructor(private readonly db: Kysely<Database>) {}

  /** Claims a queued run (queued -> running); a run no longer queued is left as it is. */
  async claim(owner: string, id: string, startedAt: string, leaseExpiresAt: string): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ status: 'running', started_at: startedAt, lease_owner: owner, lease_expires_at: leaseExpiresAt })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
  }

  read(id: string): Promise<RunRow> {
    return this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  /** Writes the progress of a run this instance executes; false when it is no longer its own (cancelled, taken over). */
  async save(owner: string, id: string, progress: Pick<RunRow, 'step_results' | 'variables'>): Promise<boolean> {
    const updated = await this.db
      .updateTable('runs')
      .set(progress)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Writes the end of a run this instance executes (unless it is no longer its own). */
  async finish(
    owner: string,
    id: string,
    end: Pick<RunRow, 'status' | 'step_results' | 'variables' | 'output' | 'error' | 'finished_at'>,
  ): Promise<void> {
    await this.db
      .updateTable('runs')
      .set(end)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Keeps the leases of the runs this instance is executing. */
  async renew(owner: string, ids: readonly string[], leaseExpiresAt: string): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseExpiresAt })
      .where('id', 'in', [...ids])
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /** Hands this instance's leases back (at shutdown): they expire now. */
  async release(owner: string, now: string): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: now })
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /**
   * Claims running runs whose lease has expired (every running run, when `everything`),
   * then answers the running runs this instance holds and the queued runs created at or
   * before `queuedBefore` (every queued run when null).
   */
  async takeOver(
    owner: string,
    everything: boolean,
    now: string,
    leaseExpiresAt: string,
    queuedBefore: string | null,
  ): Promise<{ running: string[]; queued: string[] }> {
    let claim = this.db
      .updateTable('runs')
      .set({ lease_owner: owner, lease_expires_at: leaseExpiresAt })
      .where('status', '=', 'running');
    if (!everything)
      claim = claim.where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]));
    await claim.execute();
    const running = await this.db
      .selectFrom('runs')
      .select('id')
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .execute();
    let queued = this.db.selectFrom('runs').select('id').where('status', '=', 'queued');
    if (queuedBefore !== null) queued = queued.where('created_at', '<=', queuedBefore);
    const stranded = await queued.execute();
    return { running: running.map((row) => row.id), queued: stranded.map((row) => row.id) };
  }
}
