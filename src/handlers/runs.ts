import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

type RunHandlers = Pick<Handlers, 'listRuns' | 'getRun' | 'cancelRun' | 'retryRun'>;

// A change and its audit entry commit in one transaction, and the runner hears of it only then.
export function runHandlers({ runs, audit, transaction }: Services): RunHandlers {
  return {
    async listRuns({ query, context }) {
      const filters = {
        ...(query.workflow_id ? { workflow_id: query.workflow_id } : {}),
        ...(query.status ? { status: query.status } : {}),
      };
      return {
        status: 200,
        body: listOf(
          await runs.list(tenantOf(principalOf(context)), filters, query.limit ?? DEFAULT_LIMIT, query.cursor),
        ),
      };
    },
    async getRun({ params, context }) {
      return { status: 200, body: ok(await runs.get(tenantOf(principalOf(context)), params.run_id)) };
    },
    async cancelRun({ params, context }) {
      const run = await transaction(async (tx) => {
        const { run: cancelled, changed } = await runs.cancel(tenantOf(principalOf(context)), params.run_id, tx);
        if (changed)
          await audit.recordIn(
            context,
            { action: 'run.cancelled', outcome: 'success', resource: { type: 'run', id: cancelled.id } },
            tx,
          );
        return cancelled;
      });
      return { status: 200, body: ok(run) };
    },
    async retryRun({ params, context }) {
      const run = await transaction(async (tx) => {
        const retried = await runs.retry(tenantOf(principalOf(context)), params.run_id, tx);
        await audit.recordIn(
          context,
          {
            action: 'run.retried',
            outcome: 'success',
            resource: { type: 'run', id: retried.id },
            metadata: { retry_of: params.run_id },
          },
          tx,
        );
        return retried;
      });
      return { status: 202, body: ok(run) };
    },
  };
}
