// The workflows table: every query by tenant, and soft deletes (a deleted workflow's row
// stays, so that its runs keep pointing at something). The queries of every GET and
// POST are compiled once (src/db/precompiled.ts).
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import { precompile, precompiledInsert, type Precompiled } from '../precompiled.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenant, tenantColumns, updateTenant } from './tenant-query.ts';

export type WorkflowRow = Database['workflows'];
/** What a create writes besides the tenant. */
export type NewWorkflow = Omit<WorkflowRow, 'project_id' | 'environment'>;
/** What a replace writes: the definition (the version and updated_at move with it). */
export type WorkflowDefinition = Pick<
  WorkflowRow,
  'name' | 'description' | 'status' | 'trigger_type' | 'event_type' | 'steps'
>;

// The hot reads name every column rather than `select *`: on SQLite, rows of statements
// that name their columns are built faster (src/db/database.ts, objectRows). A column
// missing here makes the queries' rows no longer a row: a compile error.
const COLUMNS = [
  'id',
  'project_id',
  'environment',
  'name',
  'description',
  'status',
  'trigger_type',
  'event_type',
  'steps',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
] as const satisfies readonly (keyof WorkflowRow)[];
/** What identifies a kept workflow version, and its place in a page. */
const KEY_COLUMNS = ['id', 'version', 'created_at'] as const satisfies readonly (keyof WorkflowRow)[];
export type WorkflowVersionKey = Pick<WorkflowRow, (typeof KEY_COLUMNS)[number]>;

type Scoped = { projectId: string; environment: Tenant['environment'] };
type ListValues = Scoped & { status?: string; createdAt?: string; afterId?: string; limit: number };

export interface PageRequest {
  status: 'active' | 'paused' | undefined;
  position: PagePosition | null;
  /** Rows at most (a caller asking whether another page exists asks for one more). */
  limit: number;
}

export class WorkflowRepository {
  readonly #byId: Precompiled<Scoped & { id: string }, WorkflowRow>;
  readonly #insert: (row: WorkflowRow, executor?: Kysely<Database>) => Promise<void>;
  /** By variant: with or without a status filter, first page or after a cursor. */
  readonly #pages = new Map<string, Precompiled<ListValues, WorkflowRow>>();
  /** The same pages as ids, versions and creation times only. */
  readonly #pageKeys = new Map<string, Precompiled<ListValues, WorkflowVersionKey>>();

  constructor(private readonly db: Kysely<Database>) {
    this.#byId = precompile(db, (value) =>
      selectTenant(db, 'workflows', { projectId: value('projectId'), environment: value('environment') })
        .select(COLUMNS)
        .where('id', '=', value('id'))
        .where('deleted_at', 'is', null),
    );
    this.#insert = precompiledInsert(db, 'workflows');
  }

  /** The tenant's workflow `id`, unless deleted (GET). */
  find(tenant: Tenant, id: string): Promise<WorkflowRow | undefined> {
    return this.#byId.executeTakeFirst({ id, projectId: tenant.projectId, environment: tenant.environment });
  }

  /** A page of the tenant's undeleted workflows, newest first. */
  page(tenant: Tenant, request: PageRequest): Promise<WorkflowRow[]> {
    return this.pageQuery(this.#pages, COLUMNS, request).execute(listValues(tenant, request));
  }

  /** The same page as ids, versions and creation times only: a page whose versions are all kept needs no more. */
  pageKeys(tenant: Tenant, request: PageRequest): Promise<WorkflowVersionKey[]> {
    return this.pageQuery(this.#pageKeys, KEY_COLUMNS, request).execute(listValues(tenant, request));
  }

  /** Writes a new workflow of the tenant in `tx`; returns its row. */
  async insert(tenant: Tenant, workflow: NewWorkflow, tx: Tx): Promise<WorkflowRow> {
    const { id, ...rest } = workflow;
    const row: WorkflowRow = { id, ...tenantColumns(tenant), ...rest };
    await this.#insert(row, tx.trx);
    return row;
  }

  /**
   * Replaces the definition and moves the version on by one, in one statement, so that two
   * concurrent replaces both apply in full, one after the other, each adding one to the
   * version: the last one wins, as a PUT should. (A read, then an update guarded by the
   * version read, made the loser of a race a 500 on PostgreSQL.) Undefined when the tenant
   * has no such undeleted workflow.
   */
  replace(
    tenant: Tenant,
    id: string,
    definition: WorkflowDefinition,
    updatedAt: string,
    tx: Tx,
  ): Promise<WorkflowRow | undefined> {
    return updateTenant(tx.trx, 'workflows', tenant)
      .set((eb) => ({ ...definition, version: eb('version', '+', 1), updated_at: updatedAt }))
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  /** Marks the tenant's workflow deleted; false when it has no such undeleted workflow. */
  async softDelete(tenant: Tenant, id: string, deletedAt: string, tx: Tx): Promise<boolean> {
    const result = await updateTenant(tx.trx, 'workflows', tenant)
      .set({ deleted_at: deletedAt })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The tenant's workflow as `tx` sees it, deleted ones too when asked (a retry must know). */
  findIn(tenant: Tenant, id: string, options: { includeDeleted: boolean }, tx: Tx): Promise<WorkflowRow | undefined> {
    let query = selectTenant(tx.trx, 'workflows', tenant).selectAll().where('id', '=', id);
    if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
    return query.executeTakeFirst();
  }

  /** The tenant's active workflows listening for `eventType` (at most 100, oldest first). */
  listeningTo(tenant: Tenant, eventType: string, tx: Tx): Promise<WorkflowRow[]> {
    return selectTenant(tx.trx, 'workflows', tenant)
      .selectAll()
      .where('event_type', '=', eventType)
      .where('status', '=', 'active')
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(100)
      .execute();
  }

  private pageQuery<C extends keyof WorkflowRow>(
    cache: Map<string, Precompiled<ListValues, Pick<WorkflowRow, C>>>,
    columns: readonly C[],
    request: PageRequest,
  ): Precompiled<ListValues, Pick<WorkflowRow, C>> {
    const filtered = request.status !== undefined;
    const after = request.position !== null;
    const variant = `${filtered}:${after}`;
    let query = cache.get(variant);
    if (!query) {
      const db = this.db;
      query = precompile<ListValues, Pick<WorkflowRow, C>>(db, (value) => {
        let q = selectTenant(db, 'workflows', { projectId: value('projectId'), environment: value('environment') })
          .select(columns as readonly (keyof WorkflowRow)[])
          .where('deleted_at', 'is', null);
        if (filtered) q = q.where('status', '=', value('status'));
        if (after) q = q.where(afterPosition({ createdAt: value('createdAt'), id: value('afterId') }));
        return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(value('limit'));
      });
      cache.set(variant, query);
    }
    return query;
  }
}

function listValues(tenant: Tenant, request: PageRequest): ListValues {
  return {
    projectId: tenant.projectId,
    environment: tenant.environment,
    ...(request.status !== undefined ? { status: request.status } : {}),
    ...(request.position ? { createdAt: request.position.createdAt, afterId: request.position.id } : {}),
    limit: request.limit,
  };
}
