// Runs: starting (manually, from an event, as a retry), reading, cancelling.
// Execution itself is the step runner's; this module owns the state transitions
// a caller may ask for, each a conditional update so that races resolve cleanly.
import type { components } from '../../generated/api.d.ts';
import type { NewRun, RunRepository, RunRow } from '../db/repositories/runs.ts';
import type { WorkflowRow } from '../db/repositories/workflows.ts';
import type { Tx } from '../db/transaction.ts';
import { ApiError, notFound } from '../errors.ts';
import type { StepResult, StepRunner } from '../runner/step-runner.ts';
import type { Tenant } from '../tenant.ts';
import { newId } from './ids.ts';
import { byCreation, decodeCursor, toPage, type Page } from './pagination.ts';
import { iso, type Clock } from './time.ts';
import type { WorkflowService, WorkflowStep } from './workflows.ts';

export type Run = components['schemas']['Run'];
type RunStatus = components['schemas']['RunStatus'];
type Row = RunRow;

export interface EventContext {
  id: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

export class RunService {
  constructor(
    private readonly repository: RunRepository,
    private readonly clock: Clock,
    private readonly workflows: WorkflowService,
    private readonly runner: StepRunner,
  ) {}

  // runManually, retry and cancel take the unit of work of their audit entry (handlers/runs.ts):
  // the runner hears of the run only once it has committed.
  async runManually(tenant: Tenant, workflowId: string, input: Record<string, unknown>, tx: Tx): Promise<Run> {
    const workflow = await this.workflows.row(tenant, workflowId, {}, tx);
    if (workflow.status !== 'active')
      throw new ApiError('workflow_not_active', 'The workflow is paused: set its status to active to run it.');
    return this.start(tenant, workflow, { trigger: 'manual', input, event: null, retryOf: null }, tx);
  }

  /** The runs an accepted event starts, not yet written: the event names them first (see EventService). */
  newEventRuns(workflows: readonly WorkflowRow[], event: EventContext): NewRun[] {
    return workflows.map((workflow) =>
      this.newRow(workflow, { trigger: 'event', input: event.data, event, retryOf: null }),
    );
  }

  /** Writes the runs of an accepted event in `tx`, its unit of work: the runner hears of them once it has committed. */
  async startEventRuns(tenant: Tenant, runs: readonly NewRun[], tx: Tx): Promise<void> {
    await this.repository.insert(tenant, runs, tx);
    tx.afterCommit(() => this.schedule(runs.map((run) => run.id)));
  }

  async retry(tenant: Tenant, runId: string, tx: Tx): Promise<Run> {
    const original = await this.rowIn(tenant, runId, tx);
    if (original.status !== 'failed' && original.status !== 'cancelled') {
      throw new ApiError(
        'run_not_retryable',
        `Only failed or cancelled runs can be retried; this one is ${original.status}.`,
      );
    }
    // Through the scoped lookup (deleted rows included): no query reaches a workflow by id alone.
    const workflow = await this.workflows.row(tenant, original.workflow_id, { includeDeleted: true }, tx);
    if (workflow.deleted_at !== null)
      throw new ApiError('run_not_retryable', 'The workflow of this run has been deleted.');
    if (workflow.status !== 'active')
      throw new ApiError('workflow_not_active', 'The workflow is paused: set its status to active to retry its runs.');
    return this.start(
      tenant,
      workflow,
      {
        trigger: 'retry',
        input: JSON.parse(original.input) as Record<string, unknown>,
        event: original.event_data === null ? null : (JSON.parse(original.event_data) as EventContext),
        retryOf: original.id,
        eventId: original.event_id,
      },
      tx,
    );
  }

  async cancel(tenant: Tenant, runId: string, tx: Tx): Promise<{ run: Run; changed: boolean }> {
    for (;;) {
      const current = await this.rowIn(tenant, runId, tx);
      if (current.status === 'cancelled') return { run: toRun(current), changed: false };
      if (current.status === 'succeeded' || current.status === 'failed') {
        throw new ApiError('run_not_cancellable', `The run has already ${current.status}: there is nothing to cancel.`);
      }
      const results = (JSON.parse(current.step_results) as StepResult[]).map((result): StepResult => {
        if (result.status === 'running') return { ...result, status: 'cancelled', finished_at: iso(this.clock()) };
        if (result.status === 'pending') return { ...result, status: 'skipped' };
        return result;
      });
      const output = current.status === 'queued' ? '{}' : current.variables;
      const finishedAt = iso(this.clock());
      // Guarded by the status and step results we read: if the runner moved on meanwhile, read again.
      if (
        await this.repository.cancel(
          tenant,
          runId,
          current,
          { step_results: JSON.stringify(results), output, finished_at: finishedAt },
          tx,
        )
      ) {
        tx.afterCommit(() => this.runner.interrupt(runId));
        return {
          run: toRun({
            ...current,
            status: 'cancelled',
            step_results: JSON.stringify(results),
            output,
            finished_at: finishedAt,
          }),
          changed: true,
        };
      }
    }
  }

  async get(tenant: Tenant, runId: string): Promise<Run> {
    const row = await this.repository.find(tenant, runId);
    if (!row) throw notFound('run');
    return toRun(row);
  }

  async list(
    tenant: Tenant,
    filters: { workflow_id?: string; status?: RunStatus },
    limit: number,
    cursor?: string,
  ): Promise<Page<Run>> {
    const list = `runs:${filters.workflow_id ?? ''}:${filters.status ?? ''}`;
    const position = decodeCursor(list, cursor);
    const rows = await this.repository.page(tenant, filters, position, limit + 1);
    return toPage(list, rows, limit, toRun, byCreation);
  }

  /** Hands freshly written runs to the runner (after their transaction committed). */
  schedule(runIds: string[]): void {
    for (const id of runIds) this.runner.schedule(id);
  }

  private async start(
    tenant: Tenant,
    workflow: WorkflowRow,
    how: {
      trigger: Row['trigger_type'];
      input: Record<string, unknown>;
      event: EventContext | null;
      retryOf: string | null;
      eventId?: string | null;
    },
    tx: Tx,
  ): Promise<Run> {
    const [row] = await this.repository.insert(tenant, [this.newRow(workflow, how)], tx);
    tx.afterCommit(() => this.runner.schedule(row!.id));
    return toRun(row!);
  }

  private newRow(
    workflow: WorkflowRow,
    how: {
      trigger: Row['trigger_type'];
      input: Record<string, unknown>;
      event: EventContext | null;
      retryOf: string | null;
      eventId?: string | null;
    },
  ): NewRun {
    const steps = JSON.parse(workflow.steps) as WorkflowStep[];
    const results: StepResult[] = steps.map((step) => ({
      step_id: step.id,
      type: step.type,
      status: 'pending',
      started_at: null,
      finished_at: null,
      error: null,
      output: null,
    }));
    return {
      id: newId('run'),
      workflow_id: workflow.id,
      workflow_version: workflow.version,
      status: 'queued',
      trigger_type: how.trigger,
      event_id: how.event?.id ?? how.eventId ?? null,
      input: JSON.stringify(how.input),
      event_data: how.event === null ? null : JSON.stringify(how.event),
      output: null,
      definition: workflow.steps,
      step_results: JSON.stringify(results),
      variables: '{}',
      error: null,
      retry_of: how.retryOf,
      created_at: iso(this.clock()),
      started_at: null,
      finished_at: null,
      lease_owner: null,
      lease_expires_at: null,
    };
  }

  private async rowIn(tenant: Tenant, runId: string, tx: Tx): Promise<Row> {
    const row = await this.repository.findIn(tenant, runId, tx);
    if (!row) throw notFound('run');
    return row;
  }
}

export function toRun(row: Row): Run {
  return {
    id: row.id,
    workflow_id: row.workflow_id,
    workflow_version: row.workflow_version,
    status: row.status,
    trigger: { type: row.trigger_type, event_id: row.event_id },
    input: JSON.parse(row.input) as Record<string, unknown>,
    output: row.output === null ? null : (JSON.parse(row.output) as Record<string, unknown>),
    // Runs stored before steps recorded their output have none: `null`, as for a step that produced nothing.
    steps: (JSON.parse(row.step_results) as StepResult[]).map((step) => ({ ...step, output: step.output ?? null })),
    error: row.error === null ? null : (JSON.parse(row.error) as Run['error']),
    retry_of: row.retry_of,
    environment: row.environment,
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}
