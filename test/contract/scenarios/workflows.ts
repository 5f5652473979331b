// Workflows: list, create, read, replace, delete, run.
import type { Scenario } from '../scenario.ts';
import { createWorkflow, unknownIds, workflowInput } from './setup.ts';

export const workflowScenarios: Scenario[] = [
  {
    operationId: 'listWorkflows',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/workflows', { params: { query: { limit: 5 } } }),
    invalid: [
      {
        name: 'limit 0',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/workflows', { params: { query: { limit: 0 } } }),
      },
      {
        name: 'limit 101',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/workflows', { params: { query: { limit: 101 } } }),
      },
      {
        name: 'unknown status',
        status: 400,
        // @ts-expect-error deliberately outside the enum
        call: (ctx) => ctx.api.GET('/v1/workflows', { params: { query: { status: 'archived' } } }),
      },
      {
        name: 'cursor with forbidden characters',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/workflows', { params: { query: { cursor: 'not a cursor!' } } }),
      },
    ],
  },
  {
    operationId: 'createWorkflow',
    status: 201,
    call: (ctx) =>
      ctx.api.POST('/v1/workflows', {
        params: { header: { 'Idempotency-Key': ctx.unique('create-wf-') } },
        body: workflowInput(ctx),
      }),
    invalid: [
      {
        name: 'no steps',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/workflows', { body: { ...workflowInput(ctx), steps: [] } }),
      },
      {
        name: 'missing name',
        status: 400,
        call: (ctx) =>
          // @ts-expect-error deliberately missing a required field
          ctx.api.POST('/v1/workflows', { body: { trigger: { type: 'manual' }, steps: workflowInput(ctx).steps } }),
      },
      {
        name: 'unknown field',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/workflows', { body: { ...workflowInput(ctx), owner: 'mallory' } as never }),
      },
      {
        name: 'unknown step type',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/workflows', {
            body: { ...workflowInput(ctx), steps: [{ id: 'x', type: 'shell', command: 'rm -rf /' }] } as never,
          }),
      },
    ],
  },
  {
    operationId: 'getWorkflow',
    status: 200,
    call: async (ctx) => {
      const workflow = await createWorkflow(ctx);
      return ctx.api.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: 'run_123' } } }),
      },
    ],
  },
  {
    operationId: 'replaceWorkflow',
    status: 200,
    call: async (ctx) => {
      const workflow = await createWorkflow(ctx);
      return ctx.api.PUT('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: workflow.id } },
        body: { ...workflowInput(ctx), status: 'paused' },
      });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) =>
          ctx.api.PUT('/v1/workflows/{workflow_id}', {
            params: { path: { workflow_id: 'wf_short' } },
            body: workflowInput(ctx),
          }),
      },
      {
        name: 'name too long',
        status: 400,
        call: (ctx) =>
          ctx.api.PUT('/v1/workflows/{workflow_id}', {
            params: { path: { workflow_id: unknownIds.workflow } },
            body: { ...workflowInput(ctx), name: 'n'.repeat(201) },
          }),
      },
    ],
  },
  {
    operationId: 'deleteWorkflow',
    status: 200,
    call: async (ctx) => {
      const workflow = await createWorkflow(ctx);
      return ctx.api.DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: 'wf_' } } }),
      },
    ],
  },
  {
    operationId: 'runWorkflow',
    status: 202,
    call: async (ctx) => {
      const workflow = await createWorkflow(ctx);
      return ctx.api.POST('/v1/workflows/{workflow_id}/run', {
        params: { path: { workflow_id: workflow.id }, header: { 'Idempotency-Key': ctx.unique('run-') } },
        body: { input: { region: 'EMEA' } },
      });
    },
    invalid: [
      {
        name: 'input is not an object',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/workflows/{workflow_id}/run', {
            params: { path: { workflow_id: unknownIds.workflow } },
            body: { input: 'EMEA' } as never,
          }),
      },
      {
        name: 'Idempotency-Key with spaces',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/workflows/{workflow_id}/run', {
            params: { path: { workflow_id: unknownIds.workflow }, header: { 'Idempotency-Key': 'not a valid key' } },
            body: {},
          }),
      },
    ],
  },
];
