import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, scopeOf } from './envelope.ts';
import type { Services } from './services.ts';

type RunHandlers = Pick<Handlers, 'listRuns' | 'getRun' | 'cancelRun' | 'retryRun'>;

export function runHandlers({ runs, audit }: Services): RunHandlers {
  return {
    async listRuns({ query, context }) {
      const filters = { ...(query.workflow_id ? { workflow_id: query.workflow_id } : {}), ...(query.status ? { status: query.status } : {}) };
      return { status: 200, body: listOf(await runs.list(scopeOf(principalOf(context)), filters, query.limit ?? DEFAULT_LIMIT, query.cursor)) };
    },
    async getRun({ params, context }) {
      return { status: 200, body: ok(await runs.get(scopeOf(principalOf(context)), params.run_id)) };
    },
    async cancelRun({ params, context }) {
      const { run, changed } = await runs.cancel(scopeOf(principalOf(context)), params.run_id);
      if (changed) await audit.record(context, { action: 'run.cancelled', outcome: 'success', resource: { type: 'run', id: run.id } });
      return { status: 200, body: ok(run) };
    },
    async retryRun({ params, context }) {
      const run = await runs.retry(scopeOf(principalOf(context)), params.run_id);
      await audit.record(context, { action: 'run.retried', outcome: 'success', resource: { type: 'run', id: run.id }, metadata: { retry_of: params.run_id } });
      return { status: 202, body: ok(run) };
    },
  };
}
