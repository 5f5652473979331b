import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

type WorkflowHandlers = Pick<
  Handlers,
  'listWorkflows' | 'createWorkflow' | 'getWorkflow' | 'replaceWorkflow' | 'deleteWorkflow' | 'runWorkflow'
>;

// A change and its audit entry commit in one transaction: there is never one without the other.
export function workflowHandlers({ workflows, runs, audit, transaction }: Services): WorkflowHandlers {
  return {
    async listWorkflows({ query, context }) {
      const page = await workflows.list(
        tenantOf(principalOf(context)),
        query.status,
        query.limit ?? DEFAULT_LIMIT,
        query.cursor,
      );
      return { status: 200, body: listOf(page) };
    },
    async createWorkflow({ body, context }) {
      const workflow = await transaction(async (tx) => {
        const created = await workflows.create(tenantOf(principalOf(context)), body, tx);
        await audit.recordIn(
          context,
          {
            action: 'workflow.created',
            outcome: 'success',
            resource: { type: 'workflow', id: created.id },
            metadata: { version: 1 },
          },
          tx,
        );
        return created;
      });
      return { status: 201, body: ok(workflow) };
    },
    async getWorkflow({ params, context }) {
      return { status: 200, body: ok(await workflows.get(tenantOf(principalOf(context)), params.workflow_id)) };
    },
    async replaceWorkflow({ params, body, context }) {
      const workflow = await transaction(async (tx) => {
        const replaced = await workflows.replace(tenantOf(principalOf(context)), params.workflow_id, body, tx);
        await audit.recordIn(
          context,
          {
            action: 'workflow.replaced',
            outcome: 'success',
            resource: { type: 'workflow', id: replaced.id },
            metadata: { version: replaced.version },
          },
          tx,
        );
        return replaced;
      });
      return { status: 200, body: ok(workflow) };
    },
    async deleteWorkflow({ params, context }) {
      await transaction(async (tx) => {
        await workflows.delete(tenantOf(principalOf(context)), params.workflow_id, tx);
        await audit.recordIn(
          context,
          { action: 'workflow.deleted', outcome: 'success', resource: { type: 'workflow', id: params.workflow_id } },
          tx,
        );
      });
      return { status: 200, body: ok({ id: params.workflow_id, deleted: true as const }) };
    },
    async runWorkflow({ params, body, context }) {
      const run = await transaction(async (tx) => {
        const started = await runs.runManually(
          tenantOf(principalOf(context)),
          params.workflow_id,
          body?.input ?? {},
          tx,
        );
        await audit.recordIn(
          context,
          {
            action: 'run.started',
            outcome: 'success',
            resource: { type: 'run', id: started.id },
            metadata: { workflow_id: started.workflow_id, trigger: 'manual' },
          },
          tx,
        );
        return started;
      });
      return { status: 202, body: ok(run) };
    },
  };
}
