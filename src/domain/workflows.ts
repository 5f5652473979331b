// Workflows: definitions scoped to a project and environment. Deleted workflows
// are kept (soft delete) so that their runs keep pointing at something.
import type { Kysely } from 'kysely';
import type { components } from '../../generated/api.d.ts';
import type { Database } from '../db/schema.ts';
import { ApiError, notFound } from '../errors.ts';
import { newId } from './ids.ts';
import { afterPosition, byCreation, decodeCursor, toPage, type Page } from './pagination.ts';
import type { DataScope } from './scope.ts';
import { iso, type Clock } from './time.ts';

export type Workflow = components['schemas']['Workflow'];
export type WorkflowInput = components['schemas']['WorkflowInput'];
export type WorkflowStep = components['schemas']['WorkflowStep'];
type Row = Database['workflows'];

export class WorkflowService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(scope: DataScope, input: WorkflowInput): Promise<Workflow> {
    checkConsistency(input);
    const now = iso(this.clock());
    const row: Row = {
      id: newId('wf'),
      project_id: scope.projectId,
      environment: scope.environment,
      ...definitionColumns(input),
      version: 1,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    await this.db.insertInto('workflows').values(row).execute();
    return toWorkflow(row);
  }

  async list(scope: DataScope, status: 'active' | 'paused' | undefined, limit: number, cursor?: string): Promise<Page<Workflow>> {
    const list = `workflows:${status ?? ''}`;
    const position = decodeCursor(list, cursor);
    let query = this.db
      .selectFrom('workflows')
      .selectAll()
      .where('project_id', '=', scope.projectId)
      .where('environment', '=', scope.environment)
      .where('deleted_at', 'is', null);
    if (status) query = query.where('status', '=', status);
    if (position) query = query.where(afterPosition(position));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    return toPage(list, rows, limit, toWorkflow, byCreation);
  }

  async get(scope: DataScope, id: string): Promise<Workflow> {
    return toWorkflow(await this.row(scope, id));
  }

  /** The stored row, for the run service (it needs the raw definition). */
  async row(scope: DataScope, id: string, options: { includeDeleted?: boolean } = {}): Promise<Row> {
    let query = this.db
      .selectFrom('workflows')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', scope.projectId)
      .where('environment', '=', scope.environment);
    if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('workflow');
    return row;
  }

  async replace(scope: DataScope, id: string, input: WorkflowInput): Promise<Workflow> {
    checkConsistency(input);
    // One statement, so two concurrent replaces both apply in full, one after the other,
    // each adding one to the version: the last one wins, as a PUT should. (A read, then an
    // update guarded by the version read, made the loser of a race a 500 on PostgreSQL.)
    // Scoped by tenant like every resource query, so no statement reaches another project's row by id alone.
    const row = await this.db
      .updateTable('workflows')
      .set((eb) => ({ ...definitionColumns(input), version: eb('version', '+', 1), updated_at: iso(this.clock()) }))
      .where('id', '=', id)
      .where('project_id', '=', scope.projectId)
      .where('environment', '=', scope.environment)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('workflow');
    return toWorkflow(row);
  }

  async delete(scope: DataScope, id: string): Promise<void> {
    const result = await this.db
      .updateTable('workflows')
      .set({ deleted_at: iso(this.clock()) })
      .where('id', '=', id)
      .where('project_id', '=', scope.projectId)
      .where('environment', '=', scope.environment)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw notFound('workflow');
  }

  /** Active workflows of the scope listening for `eventType`. */
  async listeningTo(scope: DataScope, eventType: string): Promise<Row[]> {
    return this.db
      .selectFrom('workflows')
      .selectAll()
      .where('project_id', '=', scope.projectId)
      .where('environment', '=', scope.environment)
      .where('event_type', '=', eventType)
      .where('status', '=', 'active')
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(100)
      .execute();
  }
}

/** What the schema cannot say: step ids are unique within the workflow. */
function checkConsistency(input: WorkflowInput): void {
  const seen = new Set<string>();
  for (const step of input.steps) {
    if (seen.has(step.id)) throw new ApiError('invalid_workflow_definition', `Step id "${step.id}" is used twice: step ids must be unique within a workflow.`);
    seen.add(step.id);
  }
}

function definitionColumns(input: WorkflowInput) {
  return {
    name: input.name,
    description: input.description ?? null,
    status: input.status ?? 'active',
    trigger_type: input.trigger.type,
    event_type: input.trigger.type === 'event' ? input.trigger.event_type : null,
    steps: JSON.stringify(input.steps.map((step) => (step.type === 'log' ? { ...step, level: step.level ?? 'info' } : step))),
  } as const;
}

export function toWorkflow(row: Row): Workflow {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    trigger: row.trigger_type === 'event' && row.event_type ? { type: 'event', event_type: row.event_type } : { type: 'manual' },
    steps: JSON.parse(row.steps) as WorkflowStep[],
    environment: row.environment,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
