// Set-up calls shared by scenarios: they create, with the all-scopes admin client,
// what the call under test needs, and fail loudly when the target refuses. On the
// Prism mock they return the contract's examples, whose ids are well-formed, so
// the same scenario runs unchanged on the mock and on the real server.
import type { components } from '../../../generated/api.d.ts';
import type { CallResult, ScenarioContext } from '../scenario.ts';

type Schemas = components['schemas'];

/** The data of a set-up call, or an error naming the call and what came back. */
export function required<T>(what: string, result: CallResult & { data?: { data: T } }): T {
  if (result.data === undefined) {
    throw new Error(`set-up failed: ${what} answered ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data.data;
}

export const workflowInput = (ctx: ScenarioContext): Schemas['WorkflowInput'] => ({
  name: ctx.unique('Order confirmation '),
  description: 'Confirms each new order to the customer.',
  trigger: { type: 'manual' },
  steps: [
    { id: 'remember', type: 'set', values: { region: '{{input.region}}' } },
    { id: 'announce', type: 'log', message: 'Region {{vars.region}}' },
  ],
});

export async function createWorkflow(ctx: ScenarioContext): Promise<Schemas['Workflow']> {
  return required('POST /v1/workflows', await ctx.admin.POST('/v1/workflows', { body: workflowInput(ctx) }));
}

export async function startRun(ctx: ScenarioContext): Promise<Schemas['Run']> {
  const workflow = await createWorkflow(ctx);
  return required(
    'POST /v1/workflows/{workflow_id}/run',
    await ctx.admin.POST('/v1/workflows/{workflow_id}/run', {
      params: { path: { workflow_id: workflow.id } },
      body: { input: { region: 'EMEA' } },
    }),
  );
}

/** Well-formed ids that no target holds: for 404s and for calls whose id is irrelevant. */
export const unknownIds = {
  workflow: 'wf_000000000000000000000000',
  run: 'run_000000000000000000000000',
  connection: 'conn_000000000000000000000000',
  key: 'key_000000000000000000000000',
  client: 'cli_000000000000000000000000',
} as const;
