// The audit log of mutations, against the real server: every workflow, run,
// connection and event mutation is recorded once, with the acting key's id (never
// the key), the client's IP and user agent, the request id of the response and
// the outcome; GET /v1/audit-logs filters (all combined) and pages.
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { mainTenant } from '../support/fixtures.ts';
import {
  createWorkflow,
  definition,
  expectError,
  finished,
  listAtOnce,
  manualClock,
  startRun,
  stepReached,
  walkPages,
} from './resource-helpers.ts';

type Entry = {
  id: string;
  occurred_at: string;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null; key_id: string | null; user_id: string | null; client_id: string | null };
  resource: { type: string; id: string } | null;
  ip: string;
  user_agent: string | null;
  request_id: string;
  environment: string | null;
  metadata: Record<string, unknown>;
};

const START = Date.parse('2026-11-22T09:00:00Z');
const time = manualClock(START);
let actor: { id: string; secret: string };
const USER_AGENT = 'aetherflow-node/1.4.0 (audit test)';

const api = useTestServer({ clock: time.clock });
beforeAll(async () => {
  actor = await mainTenant(api.server).key({ name: 'Audited key' });
});

/** A client of the audited key with a recognisable user agent. */
const asActor = () => api.as(actor.secret, { headers: { 'User-Agent': USER_AGENT } });

async function entriesOf(query: Record<string, string>): Promise<Entry[]> {
  return listAtOnce<Entry>(api.server, api.server.secretKey, '/v1/audit-logs', query);
}

/** The one entry the request with this response caused, checked for who, where and how. */
async function entryOf(
  response: { headers: Headers; text: string },
  action: string,
  resource: { type: string; id: string },
): Promise<Entry> {
  const requestId = response.headers.get('x-request-id')!;
  expect(requestId).toMatch(/^req_[0-9A-Za-z]{24}$/);
  const entries = await entriesOf({ request_id: requestId });
  expect(entries, `${action}: ${response.text}`).toHaveLength(1);
  const entry = entries[0]!;
  expect(entry).toMatchObject({
    action,
    outcome: 'success',
    actor: { type: 'api_key', id: actor.id, key_id: actor.id, user_id: null, client_id: null },
    resource,
    ip: '127.0.0.1',
    user_agent: USER_AGENT,
    request_id: requestId,
    environment: 'test',
  });
  // Named by its id, never by the key itself.
  expect(JSON.stringify(entry)).not.toContain(actor.secret);
  expect(JSON.stringify(entry)).not.toContain(actor.secret.slice(8, 40));
  return entry;
}

describe('every mutation is recorded', () => {
  it('workflow.created, workflow.replaced, workflow.deleted', async () => {
    const created = await asActor().POST('/v1/workflows', {
      body: definition([{ id: 'a', type: 'set', values: { a: 1 } }]),
    });
    const id = created.data!.data.id;
    expect((await entryOf(created, 'workflow.created', { type: 'workflow', id })).metadata).toEqual({ version: 1 });
    const replaced = await asActor().PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: id } },
      body: definition([{ id: 'b', type: 'set', values: { b: 1 } }]),
    });
    expect((await entryOf(replaced, 'workflow.replaced', { type: 'workflow', id })).metadata).toEqual({ version: 2 });
    await entryOf(
      await asActor().DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } }),
      'workflow.deleted',
      { type: 'workflow', id },
    );
  });

  it('run.started, run.cancelled (once, even when cancelled twice), run.retried', async () => {
    const workflow = await createWorkflow(
      api.server,
      api.server.secretKey,
      definition([{ id: 'pause', type: 'wait', seconds: 60 }]),
    );
    const started = await asActor().POST('/v1/workflows/{workflow_id}/run', {
      params: { path: { workflow_id: workflow.id } },
      body: {},
    });
    const runId = started.data!.data.id;
    expect((await entryOf(started, 'run.started', { type: 'run', id: runId })).metadata).toMatchObject({
      workflow_id: workflow.id,
      trigger: 'manual',
    });

    await stepReached(api.server, api.server.secretKey, runId, 'pause', 'running');
    await entryOf(
      await asActor().POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: runId } } }),
      'run.cancelled',
      { type: 'run', id: runId },
    );
    const again = await asActor().POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: runId } } });
    expect(again.status).toBe(200);
    expect(await entriesOf({ request_id: again.headers.get('x-request-id')! })).toEqual([]);
    expect(await entriesOf({ action: 'run.cancelled', resource_id: runId })).toHaveLength(1);

    const retried = await asActor().POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: runId } } });
    const retryId = retried.data!.data.id;
    expect((await entryOf(retried, 'run.retried', { type: 'run', id: retryId })).metadata).toEqual({ retry_of: runId });
    await api.client.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: retryId } } });
  });

  it('connection.created and connection.deleted, with the provider but never the credentials', async () => {
    const credential = 'xoxb-audit-CREDENTIAL-5521';
    const created = await asActor().POST('/v1/connections', {
      body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: credential } },
    });
    const id = created.data!.data.id;
    const entry = await entryOf(created, 'connection.created', { type: 'connection', id });
    expect(entry.metadata).toEqual({ provider: 'slack', auth_type: 'bearer' });
    expect(JSON.stringify(entry)).not.toContain(credential);
    await entryOf(
      await asActor().DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: id } } }),
      'connection.deleted',
      { type: 'connection', id },
    );
  });

  it('event.ingested, with the type and how many runs it started, and run.started for each run', async () => {
    await createWorkflow(
      api.server,
      api.server.secretKey,
      definition([{ id: 'a', type: 'set', values: { a: 1 } }], {
        trigger: { type: 'event', event_type: 'audit.probe' },
      }),
    );
    const ingested = await asActor().POST('/v1/events', { body: { type: 'audit.probe', data: { n: 1 } } });
    const entries = await entriesOf({ request_id: ingested.headers.get('x-request-id')! });
    const event = entries.find((entry) => entry.action === 'event.ingested');
    expect(event).toMatchObject({
      resource: { type: 'event', id: ingested.data?.data.id },
      metadata: { type: 'audit.probe', triggered_runs: 1 },
      actor: { type: 'api_key', id: actor.id },
    });
    const started = entries.filter((entry) => entry.action === 'run.started');
    expect(started.map((entry) => entry.resource)).toEqual([
      { type: 'run', id: ingested.data?.data.triggered_runs[0] },
    ]);
    expect(started[0]!.metadata).toEqual({ trigger: 'event', event_id: ingested.data?.data.id });
    expect(entries).toHaveLength(2);
    await api.server.server.runner.idle();
  });

  it('records nothing for a refused mutation', async () => {
    const workflow = await createWorkflow(
      api.server,
      api.server.secretKey,
      definition([{ id: 'a', type: 'set', values: { a: 1 } }]),
    );
    const run = await finished(
      api.server,
      api.server.secretKey,
      (await startRun(api.server, api.server.secretKey, workflow.id)).id,
    );
    const refused = await asActor().POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    expectError(refused, 409, 'run_not_cancellable');
    expect(await entriesOf({ request_id: refused.headers.get('x-request-id')! })).toEqual([]);
    const invalid = await asActor().POST('/v1/workflows', {
      body: { name: 'no steps', trigger: { type: 'manual' }, steps: [] },
    });
    expectError(invalid, 400, 'validation_failed');
    expect(await entriesOf({ request_id: invalid.headers.get('x-request-id')! })).toEqual([]);
  });
});

describe('GET /v1/audit-logs filters', () => {
  const at = (minutes: number) => time.set(START + 60 * 60_000 + minutes * 60_000);
  const iso = (minutes: number) => new Date(START + 60 * 60_000 + minutes * 60_000).toISOString();
  let other: { id: string; secret: string };
  const ids = { first: '', second: '', third: '' };

  beforeAll(async () => {
    other = await mainTenant(api.server).key({ name: 'Other key' });
    at(0);
    ids.first = (
      await asActor().POST('/v1/workflows', { body: definition([{ id: 'a', type: 'set', values: { a: 1 } }]) })
    ).data!.data.id;
    at(10);
    ids.second = (
      await api
        .as(other.secret)
        .POST('/v1/workflows', { body: definition([{ id: 'a', type: 'set', values: { a: 1 } }]) })
    ).data!.data.id;
    await asActor().PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: ids.first } },
      body: definition([{ id: 'b', type: 'set', values: { b: 1 } }]),
    });
    at(20);
    ids.third = (
      await asActor().POST('/v1/connections', {
        body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: 't' } },
      })
    ).data!.data.id;
    // A refusal: a read-only key trying to write is recorded as denied.
    const readOnly = await mainTenant(api.server).key({ name: 'Read only', type: 'restricted', scopes: ['read'] });
    expect(
      (
        await api
          .as(readOnly.secret)
          .POST('/v1/workflows', { body: definition([{ id: 'a', type: 'set', values: { a: 1 } }]) })
      ).status,
    ).toBe(403);
    at(30);
  });

  it('by action', async () => {
    const entries = await entriesOf({ action: 'workflow.replaced' });
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.action).toBe('workflow.replaced');
    expect(entries.map((entry) => entry.resource?.id)).toContain(ids.first);
  });

  it('by outcome', async () => {
    const denied = await entriesOf({ outcome: 'denied' });
    expect(denied.map((entry) => entry.action)).toContain('authorization.denied');
    for (const entry of denied) expect(entry.outcome).toBe('denied');
    for (const entry of await entriesOf({ outcome: 'success' })) expect(entry.outcome).toBe('success');
  });

  it('by actor_id', async () => {
    const entries = await entriesOf({ actor_id: other.id });
    expect(entries.map((entry) => [entry.action, entry.resource?.id])).toEqual([['workflow.created', ids.second]]);
  });

  it('by resource_type and resource_id', async () => {
    for (const entry of await entriesOf({ resource_type: 'connection' }))
      expect(entry.resource?.type).toBe('connection');
    const about = await entriesOf({ resource_id: ids.first });
    expect(about.map((entry) => entry.action)).toEqual(['workflow.replaced', 'workflow.created']); // minute 10, then minute 0
    expect(await entriesOf({ resource_type: 'run', resource_id: ids.first })).toEqual([]);
  });

  it('by since (inclusive) and until (exclusive)', async () => {
    const window = await entriesOf({ since: iso(10), until: iso(20) });
    // Both at minute 10 (ties are ordered by id, so compare as a set).
    expect(window.map((entry) => entry.action).sort()).toEqual(['workflow.created', 'workflow.replaced']);
    for (const entry of window) expect(entry.occurred_at).toBe(iso(10));
    const from20 = await entriesOf({ since: iso(20) });
    expect(from20.map((entry) => entry.action).sort()).toEqual(['authorization.denied', 'connection.created']);
    const before10 = await entriesOf({ until: iso(10), resource_id: ids.first });
    expect(before10.map((entry) => entry.action)).toEqual(['workflow.created']);
  });

  it('combined: every filter must match', async () => {
    expect(
      (await entriesOf({ action: 'workflow.created', actor_id: actor.id, since: iso(0), until: iso(30) })).map(
        (e) => e.resource?.id,
      ),
    ).toEqual([ids.first]);
    expect(await entriesOf({ action: 'workflow.created', actor_id: other.id, resource_id: ids.first })).toEqual([]);
  });

  it('refuses since that is not before until with 400 validation_failed', async () => {
    for (const [since, until] of [
      [iso(20), iso(10)],
      [iso(10), iso(10)],
    ]) {
      const response = await api.client.GET('/v1/audit-logs', { params: { query: { since: since!, until: until! } } });
      expectError(response, 400, 'validation_failed');
      expect(response.error?.error.details?.[0]?.location).toBe('query.since');
    }
  });

  it('refuses malformed filter values with 400 validation_failed', async () => {
    for (const query of [
      { action: 'workflow.exploded' },
      { actor_id: 'sk_test_abc' },
      { since: 'yesterday' },
      { request_id: 'req_short' },
    ]) {
      expectError(
        await api.client.GET('/v1/audit-logs', { params: { query: offContract(query) } }),
        400,
        'validation_failed',
      );
    }
  });

  it('pages through filtered entries with the cursor, newest first', async () => {
    const pages = await walkPages(api.server, api.server.secretKey, '/v1/audit-logs', { action: 'workflow.created' });
    const whole = await entriesOf({ action: 'workflow.created' });
    expect(pages.flat()).toEqual(whole.map((entry) => entry.id));
    expect(whole.length).toBeGreaterThanOrEqual(4);
    const times = whole.map((entry) => entry.occurred_at);
    expect([...times].sort().reverse()).toEqual(times);
  });
});
