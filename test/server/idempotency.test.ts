// Idempotency-Key on every creating or running POST (createWorkflow, runWorkflow,
// createConnection, ingestEvent, retryRun), against the real server: a retry
// with the same key and request replays the first answer and runs nothing; the
// same key with another request is a 409; concurrent requests with one key run
// the operation once; keys are per principal and per operation; kept 24 hours.
import { beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyRepository } from '../../src/db/repositories/idempotency.ts';
import { IdempotencyStore, IN_PROGRESS_LEASE_MS } from '../../src/domain/idempotency.ts';
import { ApiError } from '../../src/errors.ts';
import { useTestServer } from '../support/api.ts';
import { untypedRequest, mainTenant } from '../support/fixtures.ts';
import { createWorkflow, definition, expectError, finished, offsetClock, startRun } from './resource-helpers.ts';

const time = offsetClock();
let key: string;
let counter = 0;

const api = useTestServer({ clock: time.clock });
beforeAll(() => {
  key = api.server.secretKey;
});

const HOUR = 60 * 60 * 1000;

function freshKey(): string {
  counter += 1;
  return `idem-${counter}-${Math.random().toString(36).slice(2)}`;
}

function post(path: string, body: unknown, idempotencyKey: string | undefined, as = key) {
  return untypedRequest(api.server, 'POST', path, {
    key: as,
    ...(body === undefined ? {} : { body }),
    headers: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
  });
}

/** One idempotent operation: a request, another request for the same operation, and the rows it creates. */
interface Case {
  operation: string;
  status: number;
  prepare: () => Prepared | Promise<Prepared>;
}

interface Prepared {
  path: string;
  body: unknown;
  otherPath: string;
  otherBody: unknown;
  rows: () => Promise<number>;
}

async function failedRun(): Promise<string> {
  const workflow = await createWorkflow(api.server, key, definition([{ id: 'boom', type: 'fail', message: 'boom' }]));
  return (await finished(api.server, key, (await startRun(api.server, key, workflow.id)).id)).id;
}

function countWhere(
  table: 'workflows' | 'runs' | 'connections' | 'events',
  column: 'name' | 'workflow_id' | 'retry_of' | 'type',
  value: string,
) {
  return async () =>
    (
      await api.server.server.database.db
        .selectFrom(table)
        .select('id')
        .where(column as never, '=', value as never)
        .execute()
    ).length;
}

const cases: Case[] = [
  {
    operation: 'createWorkflow',
    status: 201,
    prepare() {
      const name = `Idempotent ${freshKey()}`;
      const body = definition([{ id: 'a', type: 'set', values: { a: 1 } }], { name });
      return {
        path: '/v1/workflows',
        body,
        otherPath: '/v1/workflows',
        otherBody: { ...body, description: 'other' },
        rows: countWhere('workflows', 'name', name),
      };
    },
  },
  {
    operation: 'runWorkflow',
    status: 202,
    async prepare() {
      const workflow = await createWorkflow(
        api.server,
        key,
        definition([{ id: 'a', type: 'set', values: { a: '{{input.a}}' } }]),
      );
      const path = `/v1/workflows/${workflow.id}/run`;
      return {
        path,
        body: { input: { a: 1 } },
        otherPath: path,
        otherBody: { input: { a: 2 } },
        rows: countWhere('runs', 'workflow_id', workflow.id),
      };
    },
  },
  {
    operation: 'createConnection',
    status: 201,
    prepare() {
      const name = `Connection ${freshKey()}`;
      const body = { name, provider: 'slack', auth_type: 'bearer', credentials: { token: 'example-token-value-1' } };
      return {
        path: '/v1/connections',
        body,
        otherPath: '/v1/connections',
        otherBody: { ...body, credentials: { token: 'example-token-value-2' } },
        rows: countWhere('connections', 'name', name),
      };
    },
  },
  {
    operation: 'ingestEvent',
    status: 202,
    async prepare() {
      const type = `idem.${freshKey().toLowerCase()}`;
      await createWorkflow(
        api.server,
        key,
        definition([{ id: 'a', type: 'set', values: { a: 1 } }], { trigger: { type: 'event', event_type: type } }),
      );
      const events = countWhere('events', 'type', type);
      return {
        path: '/v1/events',
        body: { type, data: { n: 1 } },
        otherPath: '/v1/events',
        otherBody: { type, data: { n: 2 } },
        rows: events,
      };
    },
  },
  {
    operation: 'retryRun',
    status: 202,
    async prepare() {
      const [run, other] = [await failedRun(), await failedRun()];
      // retryRun has no body: "another request" is the retry of another run.
      return {
        path: `/v1/runs/${run}/retry`,
        body: undefined,
        otherPath: `/v1/runs/${other}/retry`,
        otherBody: undefined,
        rows: countWhere('runs', 'retry_of', run),
      };
    },
  },
];

describe.each(cases)('$operation', ({ status, prepare }) => {
  it('replays the first answer for the same key and request, with Idempotent-Replayed: true, creating nothing twice', async () => {
    const { path, body, rows } = await prepare();
    const idempotencyKey = freshKey();
    const first = await post(path, body, idempotencyKey);
    expect(first.status, first.text).toBe(status);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await post(path, body, idempotencyKey);
    expect(again.status).toBe(status);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(await rows()).toBe(1);

    // The operation ran once, so it was audited once.
    const audited = await api
      .as(key)
      .GET('/v1/audit-logs', { params: { query: { resource_id: first.data!.data.id } } });
    expect(audited.data?.data).toHaveLength(1);
  });

  it('refuses the same key with another request with 409 idempotency_conflict, running nothing', async () => {
    const { path, body, otherPath, otherBody, rows } = await prepare();
    const idempotencyKey = freshKey();
    expect((await post(path, body, idempotencyKey)).status).toBe(status);
    const before = await rows();
    expectError(await post(otherPath, otherBody, idempotencyKey), 409, 'idempotency_conflict');
    expect(await rows()).toBe(before);
  });

  it('runs the operation exactly once when many requests with one key arrive together (over HTTP)', async () => {
    const { path, body, rows } = await prepare();
    const idempotencyKey = freshKey();
    const responses = await Promise.all(Array.from({ length: 12 }, () => post(path, body, idempotencyKey)));

    expect(await rows()).toBe(1);
    const originals = responses.filter((r) => r.status === status && r.headers.get('idempotent-replayed') === null);
    const replays = responses.filter((r) => r.status === status && r.headers.get('idempotent-replayed') === 'true');
    const inProgress = responses.filter((r) => r.status === 409);
    expect(originals).toHaveLength(1);
    expect(replays.length + inProgress.length).toBe(responses.length - 1);
    for (const replay of replays) expect(replay.body).toEqual(originals[0]!.body);
    for (const busy of inProgress) {
      expect(busy.error?.error.code).toBe('idempotency_in_progress');
      expect(busy.headers.get('retry-after')).toBe('1');
    }
  });

  it('runs again for each request without a key', async () => {
    const { path, body, rows } = await prepare();
    expect((await post(path, body, undefined)).status).toBe(status);
    if (path.endsWith('/retry')) return; // a failed run is retried once per call, but the second retry is of the same run
    expect((await post(path, body, undefined)).status).toBe(status);
    expect(await rows()).toBe(2);
  });
});

describe('scope of a key', () => {
  it('belongs to its principal: two API keys sending the same Idempotency-Key do not collide', async () => {
    const second = await mainTenant(api.server).key({ name: 'Second' });
    const { path, body, rows } = await cases[0]!.prepare();
    const idempotencyKey = freshKey();
    const mine = await post(path, body, idempotencyKey);
    const theirs = await post(path, body, idempotencyKey, second.secret);
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.data?.data.id).not.toBe(mine.data?.data.id);
    expect(await rows()).toBe(2);
    // Each principal gets its own first answer back.
    expect((await post(path, body, idempotencyKey, second.secret)).data?.data.id).toBe(theirs.data?.data.id);
    expect((await post(path, body, idempotencyKey)).data?.data.id).toBe(mine.data?.data.id);
  });

  it('belongs to its operation: the same Idempotency-Key on two operations runs both', async () => {
    const idempotencyKey = freshKey();
    const workflow = await post(
      '/v1/workflows',
      definition([{ id: 'a', type: 'set', values: { a: 1 } }]),
      idempotencyKey,
    );
    const connection = await post(
      '/v1/connections',
      { name: 'Other operation', provider: 'slack', auth_type: 'bearer', credentials: { token: 'x-token-value' } },
      idempotencyKey,
    );
    expect(workflow.status).toBe(201);
    expect(connection.status).toBe(201);
    expect(connection.headers.get('idempotent-replayed')).toBeNull();
  });

  it('treats the same JSON body with its fields in another order as the same request', async () => {
    const idempotencyKey = freshKey();
    const first = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key,
      headers: { 'Idempotency-Key': idempotencyKey },
      body: '{"name":"Ordered","trigger":{"type":"manual"},"steps":[{"id":"a","type":"set","values":{"a":1,"b":2}}]}',
    });
    const reordered = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key,
      headers: { 'Idempotency-Key': idempotencyKey },
      body: '{"steps":[{"values":{"b":2,"a":1},"type":"set","id":"a"}],"trigger":{"type":"manual"},"name":"Ordered"}',
    });
    expect(first.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(reordered.data?.data.id).toBe(first.data?.data.id);
  });

  it('refuses a malformed Idempotency-Key with 400 validation_failed', async () => {
    for (const bad of ['has space', 'x'.repeat(256)]) {
      expectError(
        await post('/v1/workflows', definition([{ id: 'a', type: 'set', values: { a: 1 } }]), bad),
        400,
        'validation_failed',
      );
    }
  });
});

describe('lifetime of a key', () => {
  it('is released when the first attempt fails, so the client can retry with it', async () => {
    const steps = [{ id: 'a', type: 'set', values: { a: 1 } }] as const;
    const workflow = await createWorkflow(api.server, key, definition([...steps], { status: 'paused' }));
    const idempotencyKey = freshKey();
    expectError(await post(`/v1/workflows/${workflow.id}/run`, {}, idempotencyKey), 409, 'workflow_not_active');
    await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: workflow.id } },
      body: definition([...steps]),
    });
    const retried = await post(`/v1/workflows/${workflow.id}/run`, {}, idempotencyKey);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('is kept 24 hours: replayed just before, a new request just after', async () => {
    const { path, body, rows } = await cases[0]!.prepare();
    const idempotencyKey = freshKey();
    const first = await post(path, body, idempotencyKey);
    expect(first.status).toBe(201);

    time.advance(24 * HOUR - 60_000);
    const stillKept = await post(path, body, idempotencyKey);
    expect(stillKept.headers.get('idempotent-replayed')).toBe('true');
    expect(stillKept.data?.data.id).toBe(first.data?.data.id);

    time.advance(2 * 60_000);
    const expired = await post(path, body, idempotencyKey);
    expect(expired.status).toBe(201);
    expect(expired.headers.get('idempotent-replayed')).toBeNull();
    expect(expired.data?.data.id).not.toBe(first.data?.data.id);
    expect(await rows()).toBe(2);

    // The key now belongs to the new request, and another body with it is a conflict again.
    expect((await post(path, body, idempotencyKey)).data?.data.id).toBe(expired.data?.data.id);
    expectError(
      await post(path, { ...(body as object), description: 'changed' }, idempotencyKey),
      409,
      'idempotency_conflict',
    );
  });
});

describe('the race, with an operation that takes time', () => {
  // Over HTTP on SQLite every request runs to its end without yielding to the event
  // loop (better-sqlite3 is synchronous), so the requests above never overlap. Here
  // the real store, on the server's SQLite file, runs an operation that waits for a
  // timer, as one would on PostgreSQL or when calling a third party.
  it('runs once; the others get idempotency_in_progress while it runs, then the replay', async () => {
    const store = new IdempotencyStore(new IdempotencyRepository(api.server.server.database.db), time.clock);
    const scope = {
      projectId: api.server.projectId,
      environment: 'test',
      principalId: 'key_race00000000000000000000',
      operationId: 'createWorkflow',
      key: freshKey(),
    };
    const request = { method: 'POST', path: '/v1/workflows', body: { name: 'Race' } };
    const name = `Race ${freshKey()}`;
    let executions = 0;
    const execute = async () => {
      executions += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { transaction, workflows } = api.server.server.services;
      const workflow = await transaction((tx) =>
        workflows.create(
          { projectId: api.server.projectId, environment: 'test' },
          definition([{ id: 'a', type: 'set', values: { a: 1 } }], { name }),
          tx,
        ),
      );
      return { status: 201, body: { success: true, data: workflow }, headers: {} };
    };

    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store.run(scope, request, execute)));
    expect(executions).toBe(1);
    expect(await countWhere('workflows', 'name', name)()).toBe(1);
    const ran = outcomes.filter((o) => o.status === 'fulfilled' && !o.value.replayed);
    const busy = outcomes.filter((o) => o.status === 'rejected');
    expect(ran).toHaveLength(1);
    expect(busy).toHaveLength(7);
    for (const outcome of busy) {
      const reason = outcome.reason as ApiError;
      expect(reason).toBeInstanceOf(ApiError);
      expect(reason.code).toBe('idempotency_in_progress');
    }

    const later = await store.run(scope, request, execute);
    expect(later.replayed).toBe(true);
    expect(later.reply).toEqual((ran[0] as PromiseFulfilledResult<{ reply: unknown }>).value.reply);
    expect(executions).toBe(1);
  });

  it('a claim whose request never finished (its instance died, or it lost the database) is taken over after the lease, not refused for a day', async () => {
    const store = new IdempotencyStore(new IdempotencyRepository(api.server.server.database.db), time.clock);
    const scope = {
      projectId: api.server.projectId,
      environment: 'test',
      principalId: 'key_lease0000000000000000000',
      operationId: 'createWorkflow',
      key: freshKey(),
    };
    const request = { method: 'POST', path: '/v1/workflows', body: { name: 'Lease' } };
    // Never settles: what a request that died after its claim leaves behind.
    void store.run(scope, request, () => new Promise(() => undefined)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const retry = () =>
      store.run(scope, request, () => Promise.resolve({ status: 201, body: { success: true }, headers: {} }));
    await expect(retry()).rejects.toMatchObject({ code: 'idempotency_in_progress' });
    time.advance(IN_PROGRESS_LEASE_MS - 1_000);
    await expect(retry()).rejects.toMatchObject({ code: 'idempotency_in_progress' });
    time.advance(1_000);
    const taken = await retry();
    expect(taken).toMatchObject({ replayed: false, reply: { status: 201 } });
    expect((await retry()).replayed).toBe(true);
  });
});
