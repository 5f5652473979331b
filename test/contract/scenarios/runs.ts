// Runs: list, read, cancel, retry.
import type { Scenario } from '../scenario.ts';
import { cancelledRun, startRun, startWaitingRun, unknownIds } from './setup.ts';

export const runScenarios: Scenario[] = [
  {
    operationId: 'listRuns',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/runs', { params: { query: { limit: 5 } } }),
    invalid: [
      { name: 'limit 101', status: 400, call: (ctx) => ctx.api.GET('/v1/runs', { params: { query: { limit: 101 } } }) },
      {
        name: 'unknown status',
        status: 400,
        // @ts-expect-error deliberately outside the enum
        call: (ctx) => ctx.api.GET('/v1/runs', { params: { query: { status: 'paused' } } }),
      },
      {
        name: 'workflow_id that is not a workflow id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/runs', { params: { query: { workflow_id: unknownIds.run } } }),
      },
      {
        name: 'cursor with forbidden characters',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/runs', { params: { query: { cursor: 'page=2&x' } } }),
      },
    ],
  },
  {
    operationId: 'getRun',
    status: 200,
    call: async (ctx) => {
      const run = await startRun(ctx);
      return ctx.api.GET('/v1/runs/{run_id}', { params: { path: { run_id: run.id } } });
    },
    invalid: [
      {
        name: 'a workflow id instead of a run id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/runs/{run_id}', { params: { path: { run_id: unknownIds.workflow } } }),
      },
      {
        name: 'run id one character short',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/runs/{run_id}', { params: { path: { run_id: unknownIds.run.slice(0, -1) } } }),
      },
    ],
  },
  {
    operationId: 'cancelRun',
    status: 200,
    call: async (ctx) => {
      // Queued or in a five-minute wait: still cancellable when the call arrives.
      const run = await startWaitingRun(ctx);
      return ctx.api.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: 'run_123' } } }),
      },
      {
        name: 'id with a character outside base62',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: 'run_00000000000000000000000-' } } }),
      },
    ],
  },
  {
    operationId: 'retryRun',
    status: 202,
    call: async (ctx) => {
      const run = await cancelledRun(ctx);
      return ctx.api.POST('/v1/runs/{run_id}/retry', {
        params: { path: { run_id: run.id }, header: { 'Idempotency-Key': ctx.unique('retry-') } },
      });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: unknownIds.connection } } }),
      },
      {
        name: 'Idempotency-Key with spaces',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/runs/{run_id}/retry', {
            params: { path: { run_id: unknownIds.run }, header: { 'Idempotency-Key': 'retry run 1' } },
          }),
      },
      {
        name: 'Idempotency-Key longer than 255 characters',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/runs/{run_id}/retry', {
            params: { path: { run_id: unknownIds.run }, header: { 'Idempotency-Key': 'k'.repeat(256) } },
          }),
      },
    ],
  },
];
