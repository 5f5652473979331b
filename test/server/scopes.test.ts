// Scopes against the real server: the one check that reads each operation's
// scopes from the contract, the coarse read/write grants, what each key type may
// do, and key creation that can never grant more than its creator holds.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.ts';
import type { components } from '../../generated/api.d.ts';
import { envelopeOf, useTestServer, type AnyAnswer } from '../support/api.ts';
import { mainTenant, type Tenant } from '../support/fixtures.ts';
import { createWorkflow, workflowInput } from './auth-helpers.ts';

let tenant: Tenant;
let workflowId: string;

const api = useTestServer();
beforeAll(async () => {
  tenant = mainTenant(api.server);
  workflowId = await createWorkflow(api.server, api.server.secretKey);
});

type ApiKeyCreate = components['schemas']['ApiKeyCreate'];

async function keyWith(scopes: Scope[], type: 'secret' | 'restricted' | 'client' = 'secret'): Promise<string> {
  return (await tenant.key({ type, scopes })).secret;
}

function expectInsufficientScope(response: AnyAnswer, scope: string): void {
  expect(response.status).toBe(403);
  expect(envelopeOf(response)?.error.code).toBe('insufficient_scope');
  expect(response.headers.get('www-authenticate')).toBe(
    `Bearer realm="aetherflow", error="insufficient_scope", scope="${scope}"`,
  );
}

describe('the scope check', () => {
  it('refuses a workflows:read key POSTing a workflow with 403 insufficient_scope naming workflows:write', async () => {
    const key = await keyWith(['workflows:read']);
    expect((await api.as(key).GET('/v1/workflows')).status).toBe(200);
    expectInsufficientScope(await api.as(key).POST('/v1/workflows', { body: workflowInput() }), 'workflows:write');
  });

  it('applies the same scopes whichever header carries the key', async () => {
    const key = await keyWith(['workflows:read']);
    expectInsufficientScope(
      await api.as(key, { apiKeyHeader: true }).POST('/v1/workflows', { body: workflowInput() }),
      'workflows:write',
    );
  });

  it('refuses before the handler runs: nothing is created', async () => {
    const key = await keyWith(['workflows:read']);
    const before = await api.client.GET('/v1/workflows', { params: { query: { limit: 100 } } });
    await api.as(key).POST('/v1/workflows', { body: workflowInput('Should not exist') });
    const after = await api.client.GET('/v1/workflows', { params: { query: { limit: 100 } } });
    expect(after.data?.data.map((w: { id: string }) => w.id)).toEqual(
      before.data?.data.map((w: { id: string }) => w.id),
    );
  });

  it('needs workflows:execute to run a workflow, which workflows:write does not imply', async () => {
    const writer = await keyWith(['workflows:read', 'workflows:write']);
    expectInsufficientScope(
      await api.as(writer).POST('/v1/workflows/{workflow_id}/run', {
        params: { path: { workflow_id: workflowId } },
        body: { input: {} },
      }),
      'workflows:execute',
    );
    const runner = await keyWith(['workflows:execute']);
    expect(
      (
        await api.as(runner).POST('/v1/workflows/{workflow_id}/run', {
          params: { path: { workflow_id: workflowId } },
          body: { input: {} },
        })
      ).status,
    ).toBe(202);
  });

  it('needs no scope for /v1/auth/verify', async () => {
    const key = await keyWith(['events:write'], 'client');
    expect((await api.as(key).GET('/v1/auth/verify')).status).toBe(200);
  });

  it('records authorization.denied with the required scopes in the project audit log', async () => {
    const key = await tenant.key({ scopes: ['workflows:read'] });
    const refused = await api
      .as(key.secret)
      .DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflowId } } });
    expect(refused.status).toBe(403);
    const audit = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'authorization.denied', request_id: refused.headers.get('x-request-id')! } },
    });
    expect(audit.data?.data).toHaveLength(1);
    expect(audit.data?.data[0]).toMatchObject({
      outcome: 'denied',
      actor: { type: 'api_key', key_id: key.id },
      metadata: { code: 'insufficient_scope', required_scopes: ['workflows:write'], operation: 'deleteWorkflow' },
    });
    expect(JSON.stringify(audit.data?.data[0])).not.toContain(key.secret.slice(12));
  });
});

describe('coarse scopes', () => {
  it('read stands for every *:read scope, and for nothing else', async () => {
    const key = await keyWith(['read']);
    for (const path of [
      '/v1/workflows',
      '/v1/runs',
      '/v1/connections',
      '/v1/auth/api-keys',
      '/v1/audit-logs',
      '/v1/usage',
    ] as const) {
      expect((await api.as(key).GET(path)).status, path).toBe(200);
    }
    expectInsufficientScope(await api.as(key).POST('/v1/workflows', { body: workflowInput() }), 'workflows:write');
    expectInsufficientScope(
      await api
        .as(key)
        .POST('/v1/workflows/{workflow_id}/run', { params: { path: { workflow_id: workflowId } }, body: {} }),
      'workflows:execute',
    );
  });

  it('write stands for every *:write scope, and does not include reading', async () => {
    const key = await keyWith(['write']);
    expect((await api.as(key).POST('/v1/workflows', { body: workflowInput() })).status).toBe(201);
    expect((await api.as(key).POST('/v1/events', { body: { type: 'order.created', data: {} } })).status).toBe(202);
    expectInsufficientScope(await api.as(key).GET('/v1/workflows'), 'workflows:read');
    expectInsufficientScope(
      await api
        .as(key)
        .POST('/v1/workflows/{workflow_id}/run', { params: { path: { workflow_id: workflowId } }, body: {} }),
      'workflows:execute',
    );
  });
});

describe('what each key type may do', () => {
  it('lets a restricted (rk_) key read and refuses its writes with 403', async () => {
    const key = await keyWith(['read'], 'restricted');
    expect(
      (await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflowId } } })).status,
    ).toBe(200);
    expectInsufficientScope(await api.as(key).POST('/v1/workflows', { body: workflowInput() }), 'workflows:write');
    expectInsufficientScope(
      await api.as(key).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflowId } } }),
      'workflows:write',
    );
    expectInsufficientScope(
      await api.as(key).POST('/v1/events', { body: { type: 'order.created', data: {} } }),
      'events:write',
    );
  });

  it('lets a client (ck_) key ingest events (202) and refuses its reads with 403', async () => {
    const key = await keyWith(['events:write'], 'client');
    const ingested = await api
      .as(key)
      .POST('/v1/events', { body: { type: 'order.created', data: { order_id: 'ord_1' } } });
    expect(ingested.status).toBe(202);
    expectInsufficientScope(await api.as(key).GET('/v1/workflows'), 'workflows:read');
    expectInsufficientScope(
      await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflowId } } }),
      'workflows:read',
    );
    expectInsufficientScope(await api.as(key).GET('/v1/auth/api-keys'), 'keys:read');
  });
});

describe('creating keys never grants more than the creator holds', () => {
  const create = (key: string, body: Omit<ApiKeyCreate, 'name' | 'type'> & { type?: ApiKeyCreate['type'] }) =>
    api.as(key).POST('/v1/auth/api-keys', { body: { name: 'Escalation attempt', type: 'secret', ...body } });

  it('refuses scopes the creator does not hold with 403 scope_escalation', async () => {
    const creator = await keyWith(['workflows:read', 'keys:write']);
    const response = await create(creator, { scopes: ['workflows:read', 'workflows:write'] });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('scope_escalation');
    expect(response.error?.error.message).toContain('workflows:write');
  });

  it('refuses a coarse scope that covers more than the creator holds', async () => {
    const creator = await keyWith(['workflows:read', 'keys:write']);
    const response = await create(creator, { scopes: ['read'] });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('scope_escalation');
  });

  it('allows any subset of what the creator holds, coarse scopes expanded', async () => {
    const creator = await keyWith(['read', 'keys:write']);
    const response = await create(creator, { scopes: ['workflows:read', 'runs:read'] });
    expect(response.status).toBe(201);
    expect(response.data?.data.scopes).toEqual(['workflows:read', 'runs:read']);
  });

  it('refuses the coarse write scope to a creator holding only keys:write', async () => {
    // A key holding keys:write may not mint a key with `write` (every *:write scope).
    const creator = await keyWith(['keys:write']);
    const response = await create(creator, { scopes: ['write'] });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('scope_escalation');
  });

  it('a key made by an expiring key expires with it, and may not be given a later expiry (403 scope_escalation)', async () => {
    const creatorExpiry = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const creator = (await tenant.key({ scopes: ['read', 'keys:write'], expires_at: creatorExpiry })).secret;

    const inherited = await create(creator, { scopes: ['read'] });
    expect(inherited.status).toBe(201);
    expect(Date.parse(inherited.data?.data.expires_at ?? '')).toBe(Date.parse(creatorExpiry));

    // null ("does not expire") is also later than the creator: it expires with it too.
    const explicitNull = await create(creator, { scopes: ['read'], expires_at: null });
    expect(explicitNull.status).toBe(201);
    expect(Date.parse(explicitNull.data?.data.expires_at ?? '')).toBe(Date.parse(creatorExpiry));

    for (const later of [new Date(Date.parse(creatorExpiry) + 1000).toISOString(), '2099-01-01T00:00:00Z']) {
      const response = await create(creator, { scopes: ['read'], expires_at: later });
      expect(response.status, later).toBe(403);
      expect(response.error?.error.code).toBe('scope_escalation');
      expect(response.error?.error.message).toContain(new Date(creatorExpiry).toISOString());
    }

    const sooner = new Date(Date.parse(creatorExpiry) - 60_000).toISOString();
    const earlier = await create(creator, { scopes: ['read'], expires_at: sooner });
    expect(earlier.status).toBe(201);
    expect(Date.parse(earlier.data?.data.expires_at ?? '')).toBe(Date.parse(sooner));
  });

  it('a key made by an address-bound key stays within its allowlist (403 scope_escalation outside it)', async () => {
    const creator = (
      await tenant.key({ scopes: ['read', 'keys:write'], allowed_ips: ['127.0.0.0/8', '2001:db8::/32'] })
    ).secret;

    const inherited = await create(creator, { scopes: ['read'] });
    expect(inherited.status).toBe(201);
    expect(inherited.data?.data.allowed_ips).toEqual(['127.0.0.0/8', '2001:db8::/32']);
    expect((await create(creator, { scopes: ['read'], allowed_ips: [] })).data?.data.allowed_ips).toEqual([
      '127.0.0.0/8',
      '2001:db8::/32',
    ]);

    const narrower = await create(creator, { scopes: ['read'], allowed_ips: ['127.0.0.1/32', '2001:db8:1::/48'] });
    expect(narrower.status).toBe(201);
    expect(narrower.data?.data.allowed_ips).toEqual(['127.0.0.1/32', '2001:db8:1::/48']);

    for (const outside of [
      ['10.0.0.0/8'],
      ['127.0.0.0/7'],
      ['0.0.0.0/0'],
      ['127.0.0.1/32', '2001:db9::/32'],
      ['::/0'],
    ]) {
      const response = await create(creator, { scopes: ['read'], allowed_ips: outside });
      expect(response.status, outside.join()).toBe(403);
      expect(response.error?.error.code).toBe('scope_escalation');
    }
  });

  it('keys made by a session are bounded by nothing but their own settings', async () => {
    const login = await api.as(null).POST('/v1/auth/login', { body: api.server.owner });
    expect(login.status).toBe(200);
    const response = await create(login.data!.data.token, { scopes: ['read'] });
    expect(response.status).toBe(201);
    expect(response.data?.data.expires_at).toBeNull();
    expect(response.data?.data.allowed_ips).toEqual([]);
  });

  it('refuses a restricted key with a write scope with 400 invalid_scope', async () => {
    for (const scopes of [
      ['workflows:write'],
      ['workflows:read', 'write'],
      ['workflows:execute'],
    ] satisfies Scope[][]) {
      const response = await create(api.server.secretKey, { type: 'restricted', scopes });
      expect(response.status, scopes.join()).toBe(400);
      expect(response.error?.error.code).toBe('invalid_scope');
    }
  });

  it('refuses a client key with anything but events:write with 400 invalid_scope', async () => {
    for (const scopes of [['workflows:read'], ['events:write', 'runs:read'], ['write']] satisfies Scope[][]) {
      const response = await create(api.server.secretKey, { type: 'client', scopes });
      expect(response.status, scopes.join()).toBe(400);
      expect(response.error?.error.code).toBe('invalid_scope');
    }
    expect((await create(api.server.secretKey, { type: 'client', scopes: ['events:write'] })).status).toBe(201);
  });

  it('refuses a test key creating a live key with 403 environment_mismatch', async () => {
    const response = await create(api.server.secretKey, { scopes: ['workflows:read'], environment: 'live' });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('environment_mismatch');
    const sameEnvironment = await create(api.server.secretKey, { scopes: ['workflows:read'], environment: 'test' });
    expect(sameEnvironment.status).toBe(201);
  });

  it('creates the key in the creator environment when none is asked for', async () => {
    const live = (await tenant.key({ environment: 'live', scopes: ['read', 'keys:write'] })).secret;
    const response = await create(live, { scopes: ['workflows:read'] });
    expect(response.status).toBe(201);
    expect(response.data?.data.environment).toBe('live');
    expect(response.data?.data.secret).toMatch(/^sk_live_/);
  });
});

describe('only keys holding keys:write manage keys', () => {
  it('lets an rk_ key with keys:read list and read keys, but not create, revoke or rotate them', async () => {
    const reader = await tenant.key({ type: 'restricted', scopes: ['keys:read'] });
    const target = await tenant.key({ scopes: ['workflows:read'] });
    expect((await api.as(reader.secret).GET('/v1/auth/api-keys')).status).toBe(200);
    expect(
      (await api.as(reader.secret).GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: target.id } } }))
        .status,
    ).toBe(200);
    expectInsufficientScope(
      await api
        .as(reader.secret)
        .POST('/v1/auth/api-keys', { body: { name: 'Nope', type: 'restricted', scopes: ['keys:read'] } }),
      'keys:write',
    );
    expectInsufficientScope(
      await api.as(reader.secret).DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: target.id } } }),
      'keys:write',
    );
    expectInsufficientScope(
      await api
        .as(reader.secret)
        .POST('/v1/auth/api-keys/{key_id}/rotate', { params: { path: { key_id: target.id } }, body: {} }),
      'keys:write',
    );
    expect((await api.as(target.secret).GET('/v1/workflows')).status).toBe(200);
  });

  it('cannot give an rk_ or ck_ key keys:write', async () => {
    for (const type of ['restricted', 'client'] as const) {
      const response = await api.client.POST('/v1/auth/api-keys', {
        body: { name: 'Manager', type, scopes: ['keys:write'] },
      });
      expect(response.status, type).toBe(400);
      expect(response.error?.error.code).toBe('invalid_scope');
    }
  });

  it('lets a secret key without keys:write do nothing with keys', async () => {
    const key = await keyWith(['workflows:read', 'workflows:write']);
    expectInsufficientScope(await api.as(key).GET('/v1/auth/api-keys'), 'keys:read');
    expectInsufficientScope(
      await api.as(key).POST('/v1/auth/api-keys', { body: { name: 'x', type: 'secret', scopes: ['workflows:read'] } }),
      'keys:write',
    );
  });
});
