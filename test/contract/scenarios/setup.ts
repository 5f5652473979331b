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

// ---------------------------------------------------------------------------
// Runs and connections (runs.ts, connections.ts)
// ---------------------------------------------------------------------------

/** A workflow whose runs stay `running` for five minutes (the longest `wait`), so they can be cancelled. */
export const waitingWorkflowInput = (ctx: ScenarioContext): Schemas['WorkflowInput'] => ({
  name: ctx.unique('Nightly settlement '),
  description: 'Waits for the payment provider to settle, then reports.',
  trigger: { type: 'manual' },
  steps: [
    { id: 'remember', type: 'set', values: { region: '{{input.region}}' } },
    { id: 'settle', type: 'wait', seconds: 300 },
    { id: 'announce', type: 'log', message: 'Settled {{vars.region}}' },
  ],
});

/** A run that is `queued` or `running` (in a five-minute `wait`): it can be cancelled. */
export async function startWaitingRun(ctx: ScenarioContext): Promise<Schemas['Run']> {
  const workflow = required(
    'POST /v1/workflows',
    await ctx.admin.POST('/v1/workflows', { body: waitingWorkflowInput(ctx) }),
  );
  return required(
    'POST /v1/workflows/{workflow_id}/run',
    await ctx.admin.POST('/v1/workflows/{workflow_id}/run', {
      params: { path: { workflow_id: workflow.id } },
      body: { input: { region: 'EMEA' } },
    }),
  );
}

/**
 * A `cancelled` run that can be retried: a waiting run, cancelled, whose workflow is
 * then replaced by a quick definition, so the retry (which runs the workflow's
 * current version) finishes at once instead of waiting five minutes.
 */
export async function cancelledRun(ctx: ScenarioContext): Promise<Schemas['Run']> {
  const waiting = await startWaitingRun(ctx);
  const cancelled = required(
    'POST /v1/runs/{run_id}/cancel',
    await ctx.admin.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: waiting.id } } }),
  );
  required(
    'PUT /v1/workflows/{workflow_id}',
    await ctx.admin.PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: cancelled.workflow_id } },
      body: workflowInput(ctx),
    }),
  );
  return cancelled;
}

export const connectionInput = (ctx: ScenarioContext): Schemas['ConnectionInput'] => ({
  name: ctx.unique('Slack (#ops-alerts) '),
  provider: 'slack',
  auth_type: 'bearer',
  credentials: { token: 'example-only-slack-bot-token-3f9a1c7e52b04d6e' },
});

export async function createConnection(ctx: ScenarioContext): Promise<Schemas['Connection']> {
  return required('POST /v1/connections', await ctx.admin.POST('/v1/connections', { body: connectionInput(ctx) }));
}

// ---------------------------------------------------------------------------
// API keys, sessions and OAuth apps (scenarios/api-keys.ts, sessions.ts,
// oauth-clients.ts). Scopes asked for are a small subset of what the suite's
// all-scopes admin holds, so no target answers `403 scope_escalation`; no
// `environment` is sent, so a key is made in the admin's own environment and no
// target answers `403 environment_mismatch`.
// ---------------------------------------------------------------------------

export const apiKeyInput = (ctx: ScenarioContext): Schemas['ApiKeyCreate'] => ({
  name: ctx.unique('Billing backend '),
  type: 'secret',
  scopes: ['workflows:read', 'runs:read'],
});

/** A new secret key, with its secret (shown this once). */
export async function createApiKey(ctx: ScenarioContext): Promise<Schemas['ApiKeyWithSecret']> {
  return required('POST /v1/auth/api-keys', await ctx.admin.POST('/v1/auth/api-keys', { body: apiKeyInput(ctx) }));
}

export const oauthClientInput = (ctx: ScenarioContext): Schemas['OAuthClientCreate'] => ({
  name: ctx.unique('Acme Reports '),
  client_type: 'confidential',
  redirect_uris: ['https://app.acme-reports.com/oauth/callback'],
  scopes: ['workflows:read', 'runs:read'],
});

/** A new confidential OAuth app. */
export async function createOAuthClient(ctx: ScenarioContext): Promise<Schemas['OAuthClientWithSecret']> {
  return required('POST /v1/oauth/clients', await ctx.admin.POST('/v1/oauth/clients', { body: oauthClientInput(ctx) }));
}

/** A new session of the target's fixture user: logs in without any credential, as a user would. */
export async function logIn(ctx: ScenarioContext): Promise<Schemas['SessionTokens']> {
  return required(
    'POST /v1/auth/login',
    await ctx.target.anonymous.POST('/v1/auth/login', { body: { ...ctx.target.fixtures.user } }),
  );
}

// ---------------------------------------------------------------------------
// OAuth protocol (oauth-protocol.ts): a registered app to run the flows with.
// ---------------------------------------------------------------------------

/** A confidential OAuth app as the flows need it: its credentials, one redirect URI, its scopes. */
export interface RegisteredOAuthApp {
  client_id: string;
  client_secret: string;
  /** Its first registered redirect URI, to be sent character for character. */
  redirect_uri: string;
  scopes: Schemas['Scope'][];
}

/**
 * Registers a confidential app (client_secret_basic) allowed every grant, with
 * `ctx.admin`. Everything the flows use is read back from the answer, not from
 * the request: on the mock the answer is the contract's example app.
 */
export async function registerConfidentialOAuthApp(ctx: ScenarioContext): Promise<RegisteredOAuthApp> {
  const app = required(
    'POST /v1/oauth/clients',
    await ctx.admin.POST('/v1/oauth/clients', {
      body: {
        name: ctx.unique('Acme Reports '),
        client_type: 'confidential',
        redirect_uris: ['https://reports.acme-example.com/oauth/callback'],
        scopes: ['workflows:read', 'runs:read'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    }),
  );
  const redirectUri = app.redirect_uris[0];
  if (app.client_secret === null || redirectUri === undefined) {
    throw new Error(
      `set-up failed: POST /v1/oauth/clients registered no secret or no redirect URI: ${JSON.stringify(app)}`,
    );
  }
  return { client_id: app.client_id, client_secret: app.client_secret, redirect_uri: redirectUri, scopes: app.scopes };
}
