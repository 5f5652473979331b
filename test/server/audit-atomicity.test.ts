// A change to a workflow, a run, a connection, an event, an API key, an OAuth app, a
// session, an OAuth grant or a sign-in on the consent page and its audit entries commit together or not at all; the runner hears of a
// run, and the caches of a key or a token, only once the change has committed. The database itself is made to refuse audit entries (a trigger, on SQLite or on
// PostgreSQL in CI's second pass): every such change must then fail as a whole, leaving
// nothing behind that the audit log does not show, and work again once entries are
// accepted.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { useIdentityServer } from '../support/api.ts';
import {
  authorizationCode,
  authorizationUrl,
  Browser,
  exchangeCode,
  formFields,
  login,
  oauthForm,
  pkcePair,
  registerApp,
} from '../identity/support.ts';
import { mainTenant } from '../support/fixtures.ts';
import {
  createWorkflow,
  definition,
  expectError,
  getRun,
  listAtOnce,
  startRun,
  stepReached,
  type Run,
} from './resource-helpers.ts';

let key: string;

const api = useIdentityServer();
beforeAll(() => {
  key = api.server.secretKey;
});

const REFUSAL = 'audit entries refused by the test';

async function refuseInserts(table: keyof Database): Promise<void> {
  const { db, dialect } = api.server.server.database;
  if (dialect === 'sqlite') {
    await sql
      .raw(`create trigger refuse_${table} before insert on ${table} begin select raise(abort, '${REFUSAL}'); end`)
      .execute(db);
  } else {
    await sql
      .raw(
        `create function refuse_${table}() returns trigger language plpgsql as $$ begin raise exception '${REFUSAL}'; end $$`,
      )
      .execute(db);
    await sql
      .raw(`create trigger refuse_${table} before insert on ${table} for each row execute function refuse_${table}()`)
      .execute(db);
  }
}

async function acceptInserts(table: keyof Database): Promise<void> {
  const { db, dialect } = api.server.server.database;
  await sql.raw(`drop trigger refuse_${table}` + (dialect === 'sqlite' ? '' : ` on ${table}`)).execute(db);
  if (dialect !== 'sqlite') await sql.raw(`drop function refuse_${table}()`).execute(db);
}

/** Runs `work` while the database refuses new rows of `table` (audit entries unless said). */
async function whileRefused(work: () => Promise<void>, table: keyof Database = 'audit_logs'): Promise<void> {
  await refuseInserts(table);
  try {
    await work();
  } finally {
    await acceptInserts(table);
  }
}

async function count(table: keyof Database): Promise<number> {
  const row = await api.server.server.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The rows of `tables`, counted, by table. */
async function counts(...tables: (keyof Database)[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await count(table)])));
}

async function entriesFor(resourceId: string): Promise<{ action: string }[]> {
  return listAtOnce<{ action: string }>(api.server, key, '/v1/audit-logs', { resource_id: resourceId });
}

const steps = definition([{ id: 'note', type: 'log', message: 'hello', level: 'info' }]);

describe('a change and its audit entry', () => {
  it('commit together or not at all, for workflows and connections', async () => {
    const workflow = await createWorkflow(api.server, key, { ...steps, name: 'Kept as it is' });
    const made = await api.as(key).POST('/v1/connections', {
      body: { name: 'Kept connection', provider: 'slack', auth_type: 'bearer', credentials: { token: 'xoxb-kept' } },
    });
    expect(made.status, made.text).toBe(201);
    const connection = made.data!.data as { id: string };
    const before = {
      workflows: await count('workflows'),
      connections: await count('connections'),
      audit: await count('audit_logs'),
    };

    await whileRefused(async () => {
      const created = await api.as(key).POST('/v1/workflows', { body: { ...steps, name: 'Never created' } });
      expectError(created, 500, 'internal_error');
      // The database's message stays in the server's log, never in the answer.
      expect(created.text).not.toContain(REFUSAL);

      const replaced = await api.as(key).PUT('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: workflow.id } },
        body: { ...steps, name: 'Never replaced' },
      });
      expectError(replaced, 500, 'internal_error');
      const deleted = await api
        .as(key)
        .DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
      expectError(deleted, 500, 'internal_error');

      const connected = await api.as(key).POST('/v1/connections', {
        body: {
          name: 'Never connected',
          provider: 'slack',
          auth_type: 'bearer',
          credentials: { token: 'xoxb-never' },
        },
      });
      expectError(connected, 500, 'internal_error');
      const disconnected = await api
        .as(key)
        .DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
      expectError(disconnected, 500, 'internal_error');

      // Nothing was written: no new rows, and the existing ones are as they were.
      expect({
        workflows: await count('workflows'),
        connections: await count('connections'),
        audit: await count('audit_logs'),
      }).toEqual(before);
      const read = await api
        .as(key)
        .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
      expect(read.status, read.text).toBe(200);
      expect(read.data?.data).toMatchObject({ name: 'Kept as it is', version: 1 });
      const readConnection = await api
        .as(key)
        .GET('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
      expect(readConnection.status, readConnection.text).toBe(200);
      expect(
        await api.server.server.services.connections.credentials(
          { projectId: api.server.projectId, environment: 'test' },
          connection.id,
        ),
      ).toEqual({ token: 'xoxb-kept' });
    });

    // Accepted again, the same changes go through, each with its entry.
    const replaced = await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: workflow.id } },
      body: { ...steps, name: 'Replaced at last' },
    });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.data?.data).toMatchObject({ version: 2 });
    const deleted = await api
      .as(key)
      .DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    expect(deleted.status, deleted.text).toBe(200);
    expect((await entriesFor(workflow.id)).map((entry) => entry.action).sort()).toEqual([
      'workflow.created',
      'workflow.deleted',
      'workflow.replaced',
    ]);
    const disconnected = await api
      .as(key)
      .DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
    expect(disconnected.status, disconnected.text).toBe(200);
    expect((await entriesFor(connection.id)).map((entry) => entry.action).sort()).toEqual([
      'connection.created',
      'connection.deleted',
    ]);
  });

  it('commit together or not at all, for runs and events; the runner is told only of what committed', async () => {
    const waiting = await createWorkflow(api.server, key, definition([{ id: 'pause', type: 'wait', seconds: 60 }]));
    const listening = await createWorkflow(
      api.server,
      key,
      definition([{ id: 'note', type: 'log', message: 'heard', level: 'info' }], {
        trigger: { type: 'event', event_type: 'atomicity.checked' },
      }),
    );
    const running = await startRun(api.server, key, waiting.id);
    await stepReached(api.server, key, running.id, 'pause', 'running');
    const before = { runs: await count('runs'), events: await count('events'), audit: await count('audit_logs') };

    await whileRefused(async () => {
      expectError(
        await api
          .as(key)
          .POST('/v1/workflows/{workflow_id}/run', { params: { path: { workflow_id: waiting.id } }, body: {} }),
        500,
        'internal_error',
      );
      expectError(
        await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: running.id } } }),
        500,
        'internal_error',
      );
      expectError(
        await api.as(key).POST('/v1/events', { body: { type: 'atomicity.checked', data: { n: 1 } } }),
        500,
        'internal_error',
      );
      expect({ runs: await count('runs'), events: await count('events'), audit: await count('audit_logs') }).toEqual(
        before,
      );
    });

    // A moment later: no run of either workflow but the one started above, and that one still
    // in its 60-second wait (an interrupt from the refused cancel would have cut the wait short).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      (await listAtOnce<Run>(api.server, key, '/v1/runs', { workflow_id: waiting.id })).map((run) => run.id),
    ).toEqual([running.id]);
    expect(await listAtOnce<Run>(api.server, key, '/v1/runs', { workflow_id: listening.id })).toEqual([]);
    const still = await getRun(api.server, key, running.id);
    expect(still.status).toBe('running');
    expect(still.steps[0]).toMatchObject({ status: 'running', finished_at: null });
    // ...and the runner still holds it: an interrupted runner lets go of the run at once.
    const idle = await Promise.race([
      api.server.server.runner.idle().then(() => 'let go'),
      new Promise((resolve) => setTimeout(resolve, 500, 'still holding')),
    ]);
    expect(idle).toBe('still holding');

    // Accepted again: the cancel goes through, and a retry of the cancelled run is refused as a whole, then accepted.
    const cancelled = await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: running.id } } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((cancelled.data?.data as Run).status).toBe('cancelled');
    const runsBeforeRetry = await count('runs');
    await whileRefused(async () => {
      expectError(
        await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: running.id } } }),
        500,
        'internal_error',
      );
      expect(await count('runs')).toBe(runsBeforeRetry);
    });
    const retried = await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: running.id } } });
    expect(retried.status, retried.text).toBe(202);
    const ingested = await api.as(key).POST('/v1/events', { body: { type: 'atomicity.checked', data: { n: 2 } } });
    expect(ingested.status, ingested.text).toBe(202);
    const receipt = ingested.data!.data as { id: string; triggered_runs: string[] };
    expect(receipt.triggered_runs).toHaveLength(1);
    expect((await entriesFor(receipt.id)).map((entry) => entry.action)).toEqual(['event.ingested']);
    expect((await entriesFor(receipt.triggered_runs[0]!)).map((entry) => entry.action)).toEqual(['run.started']);
    expect((await entriesFor(running.id)).map((entry) => entry.action).sort()).toEqual([
      'run.cancelled',
      'run.started',
    ]);
    await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: retried.data!.data.id } } });
  });

  it('commit together or not at all, for API keys; a key whose revocation was refused keeps working', async () => {
    const key = await mainTenant(api.server).key({ name: 'Atomic key' });
    const works = async (secret: string) => (await api.as(secret).GET('/v1/workflows')).status;
    expect(await works(key.secret)).toBe(200); // now in the verified-keys cache
    const before = {
      keys: await count('api_keys'),
      secrets: await count('api_key_secrets'),
      audit: await count('audit_logs'),
    };

    await whileRefused(async () => {
      expectError(
        await api.client.POST('/v1/auth/api-keys', {
          body: { name: 'Never made', type: 'secret', scopes: ['workflows:read'] },
        }),
        500,
        'internal_error',
      );
      expectError(
        await api.client.POST('/v1/auth/api-keys/{key_id}/rotate', {
          params: { path: { key_id: key.id } },
          body: { grace_period_seconds: 0 },
        }),
        500,
        'internal_error',
      );
      expectError(
        await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } }),
        500,
        'internal_error',
      );
      expectError(
        await api.as(null).POST('/v1/credentials/revoke', { body: { credential: key.secret } }),
        500,
        'internal_error',
      );
      expect({
        keys: await count('api_keys'),
        secrets: await count('api_key_secrets'),
        audit: await count('audit_logs'),
      }).toEqual(before);
      // Neither the refused rotation (grace 0) nor the refused revocations took the key away.
      expect(await works(key.secret)).toBe(200);
    });
    const read = await api.client.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(read.data?.data).toMatchObject({ status: 'active', revoked_at: null });

    // Accepted again: the revocation commits with its entry, and the very next request is refused.
    const revoked = await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(revoked.status, revoked.text).toBe(200);
    expectError(await api.as(key.secret).GET('/v1/workflows'), 401, 'revoked_api_key');
    expect((await entriesFor(key.id)).map((entry) => entry.action)).toEqual(['api_key.revoked']);
  });

  it('commit together or not at all, for OAuth apps; an app whose deletion was refused keeps its tokens working', async () => {
    const app = await registerApp(api.server, { name: 'Atomic app' });
    const basic = { id: app.client_id, secret: app.client_secret! };
    const issued = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'workflows:read' },
      basic,
    );
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const token = issued.body.access_token as string;
    const works = async () => (await api.as(token).GET('/v1/workflows')).status;
    const introspected = async () =>
      (await oauthForm(api.server.baseUrl, '/oauth/introspect', { token }, basic)).body.active as boolean;
    expect(await works()).toBe(200); // its family is now in the token verifier's cache
    const tables = ['oauth_clients', 'token_families', 'revoked_tokens', 'audit_logs'] as const;
    const before = await counts(...tables);

    await whileRefused(async () => {
      const created = await api.as(key).POST('/v1/oauth/clients', {
        body: {
          name: 'Never registered',
          client_type: 'public',
          redirect_uris: ['https://never.example.com/cb'],
          scopes: ['workflows:read'],
        },
      });
      expectError(created, 500, 'internal_error');
      expect(created.text).not.toContain(REFUSAL);
      expectError(
        await api.as(key).DELETE('/v1/oauth/clients/{client_id}', { params: { path: { client_id: app.client_id } } }),
        500,
        'internal_error',
      );
      expect(await counts(...tables)).toEqual(before);
      // The app is still there, and neither it nor its token lost anything.
      expect(
        (await listAtOnce<{ client_id: string }>(api.server, key, '/v1/oauth/clients')).map(
          (listed) => listed.client_id,
        ),
      ).toContain(app.client_id);
      expect(await works()).toBe(200);
      expect(await introspected()).toBe(true);
    });

    // Accepted again: the deletion commits with its entry, and the very next request with the token is refused.
    const deleted = await api
      .as(key)
      .DELETE('/v1/oauth/clients/{client_id}', { params: { path: { client_id: app.client_id } } });
    expect(deleted.status, deleted.text).toBe(200);
    expectError(await api.as(token).GET('/v1/workflows'), 401, 'token_revoked');
    expect((await entriesFor(app.client_id)).map((entry) => entry.action).sort()).toEqual([
      'oauth_client.created',
      'oauth_client.deleted',
      'token.issued',
    ]);
  });

  it('commit together or not at all, for sessions: a refused login leaves no session, a refused refresh or logout changes nothing', async () => {
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const verified = async (token: string) => (await api.as(token).GET('/v1/auth/verify')).status;
    expect(await verified(session.token)).toBe(200); // its family is now in the token verifier's cache
    const tables = ['token_families', 'refresh_tokens', 'revoked_tokens', 'audit_logs'] as const;
    const before = await counts(...tables);

    await whileRefused(async () => {
      const refused = await api
        .as(null)
        .POST('/v1/auth/login', { body: { email: api.server.owner.email, password: api.server.owner.password } });
      expect(refused.status).toBe(500);
      expect(refused.error?.error.code).toBe('internal_error');
      expect(refused.text).not.toContain(REFUSAL);
      const refreshed = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
      expect([refreshed.status, refreshed.error?.error.code]).toEqual([500, 'internal_error']);
      const loggedOut = await api
        .as(session.token)
        .POST('/v1/auth/logout', { body: { refresh_token: session.refresh_token } });
      expect([loggedOut.status, loggedOut.error?.error.code]).toEqual([500, 'internal_error']);
      expect(await counts(...tables)).toEqual(before);
      // The refused logout revoked neither the access token nor the session.
      expect(await verified(session.token)).toBe(200);
    });

    // Accepted again: the refresh token was not spent by the refused refresh (no reuse is
    // detected), the logout commits with its entry, and the very next request is refused.
    const refreshed = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
    expect(refreshed.status, refreshed.text).toBe(200);
    const renewed = refreshed.data!.data as { token: string; refresh_token: string };
    const loggedOut = await api
      .as(renewed.token)
      .POST('/v1/auth/logout', { body: { refresh_token: renewed.refresh_token } });
    expect(loggedOut.status, loggedOut.text).toBe(200);
    expect(await verified(renewed.token)).toBe(401);
    expect(await verified(session.token)).toBe(401);
    const entries = await api.server.server.database.db
      .selectFrom('audit_logs')
      .select('action')
      .where('request_id', 'in', [refreshed.headers.get('x-request-id')!, loggedOut.headers.get('x-request-id')!])
      .execute();
    expect(entries.map((entry) => entry.action).sort()).toEqual(['auth.logout', 'token.refreshed']);
  });

  it('a reused refresh token is refused, and the revocation of its session commits, even when its entry cannot be written', async () => {
    const verified = async (token: string) => (await api.as(token).GET('/v1/auth/verify')).status;
    for (const refused of [false, true]) {
      const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
      const rotated = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
      expect(rotated.status, rotated.text).toBe(200);
      const current = rotated.data!.data as { token: string; refresh_token: string };
      expect(await verified(current.token)).toBe(200);
      const entriesBefore = (await auditRows('token.refresh_reuse_detected')).length;

      const replay = () => api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
      const reused = refused ? await whileRefusedAnswer(replay) : await replay();
      if (refused) {
        // The entry could not be written: the revocation still committed, and the failure is a 500, logged.
        expect([reused.status, reused.error?.error.code]).toEqual([500, 'internal_error']);
        expect((await auditRows('token.refresh_reuse_detected')).length).toBe(entriesBefore);
      } else {
        expect([reused.status, reused.error?.error.code]).toEqual([401, 'invalid_refresh_token']);
        expect((await auditRows('token.refresh_reuse_detected')).length).toBe(entriesBefore + 1);
      }
      // Either way the whole session is revoked: its current tokens no longer work.
      expect(await verified(current.token)).toBe(401);
      const next = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: current.refresh_token } });
      expect([next.status, next.error?.error.code]).toEqual([401, 'invalid_refresh_token']);
    }
  });

  it('commit together or not at all, for the OAuth token endpoint and consent: refused grants and revocations leave nothing and spend nothing', async () => {
    const app = await registerApp(api.server, { name: 'Atomic grants' });
    const basic = { id: app.client_id, secret: app.client_secret! };
    const token = (form: Record<string, string>) => oauthForm(api.server.baseUrl, '/oauth/token', form, basic);
    const revoke = (value: string) => oauthForm(api.server.baseUrl, '/oauth/revoke', { token: value }, basic);
    const active = async (value: string) =>
      (await oauthForm(api.server.baseUrl, '/oauth/introspect', { token: value }, basic)).body.active as boolean;
    const works = async (value: string) => (await api.as(value).GET('/v1/auth/verify')).status;
    const expectRefused = (answer: { status: number; body: unknown }) => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(500);
      expect(JSON.stringify(answer.body)).not.toContain(REFUSAL);
    };
    const first = await authorizationCode(api.server, app);
    const exchanged = await exchangeCode(api.server, app, first.code, first.verifier);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    const issued = exchanged.body as { access_token: string; refresh_token: string };
    expect(await works(issued.access_token)).toBe(200);
    const second = await authorizationCode(api.server, app);
    const tables = ['token_families', 'refresh_tokens', 'revoked_tokens', 'authorization_codes', 'audit_logs'] as const;
    const before = await counts(...tables);

    await whileRefused(async () => {
      expectRefused(await token({ grant_type: 'client_credentials' }));
      expectRefused(await exchangeCode(api.server, app, second.code, second.verifier));
      expectRefused(await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token }));
      expectRefused(await revoke(issued.refresh_token));
      expectRefused(await revoke(issued.access_token));
      expect(await counts(...tables)).toEqual(before);
      expect(await active(issued.refresh_token)).toBe(true);
      expect(await active(issued.access_token)).toBe(true);
      expect(await works(issued.access_token)).toBe(200);
    });

    // Accepted again: nothing was spent (the code redeems, the refresh token rotates without
    // being taken for a reused one), and each goes through with its entry.
    const entries = async () =>
      Object.fromEntries(
        await Promise.all(
          ['token.issued', 'token.refreshed', 'token.revoked'].map(async (action) => [
            action,
            (await auditRows(action)).length,
          ]),
        ),
      );
    const entriesBefore = await entries();
    const redeemed = await exchangeCode(api.server, app, second.code, second.verifier);
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect((await token({ grant_type: 'client_credentials' })).status).toBe(200);
    const rotated = await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect((await revoke(rotated.body.refresh_token as string)).status).toBe(200);
    expect(await active(rotated.body.refresh_token as string)).toBe(false);
    expect(await works(rotated.body.access_token as string)).toBe(401);
    expect(await entries()).toEqual({
      'token.issued': entriesBefore['token.issued']! + 2,
      'token.refreshed': entriesBefore['token.refreshed']! + 1,
      'token.revoked': entriesBefore['token.revoked']! + 1,
    });

    // A replayed code revokes what it issued, even when the entry of the replay cannot be written.
    const replayed = await whileRefusedAnswer(() => exchangeCode(api.server, app, second.code, second.verifier));
    expectRefused(replayed);
    expect(await works(redeemed.body.access_token as string)).toBe(401);
    expect(await active(redeemed.body.refresh_token as string)).toBe(false);

    // Consent: the code and the consent's entry commit together.
    const pkce = pkcePair();
    const browser = new Browser(api.server.baseUrl);
    const url = authorizationUrl(api.server.baseUrl, {
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: app.redirect_uris[0],
      scope: 'workflows:read',
      state: 'atomic',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const loginPage = await (await browser.get(url)).text();
    const consentPage = await (
      await browser.post('/oauth/authorize', {
        ...formFields(loginPage),
        email: api.server.owner.email,
        password: api.server.owner.password,
        action: 'login',
      })
    ).text();
    const codesBefore = await counts('authorization_codes', 'audit_logs');
    const refusedConsent = await whileRefusedAnswer(() =>
      browser.post('/oauth/authorize', { ...formFields(consentPage), action: 'approve' }),
    );
    expect(refusedConsent.status).toBe(500);
    expect(await counts('authorization_codes', 'audit_logs')).toEqual(codesBefore);
    const consent = await browser.post('/oauth/authorize', { ...formFields(consentPage), action: 'approve' });
    expect(consent.status).toBe(302);
    const granted = new URL(consent.headers.get('location')!).searchParams.get('code');
    expect((await exchangeCode(api.server, app, granted!, pkce.verifier)).status).toBe(200);
  });

  it('commit together or not at all, for a sign-in on the consent page: no browser session without its entry, no entry without its session', async () => {
    const app = await registerApp(api.server, { name: 'Atomic sign-in' });
    const pkce = pkcePair();
    const url = authorizationUrl(api.server.baseUrl, {
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: app.redirect_uris[0],
      scope: 'workflows:read',
      state: 'sign-in',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const browser = new Browser(api.server.baseUrl);
    const signIn = async () =>
      browser.post('/oauth/authorize', {
        ...formFields(await (await browser.get(url)).text()),
        email: api.server.owner.email,
        password: api.server.owner.password,
        action: 'login',
      });
    const signedIn = async () => !(await (await browser.get(url)).text()).includes('name="password"');
    const signIns = async () => (await auditRows('auth.login_succeeded')).length;
    const before = { ...(await counts('oauth_browser_sessions', 'audit_logs')), signIns: await signIns() };

    // The entry cannot be written: no session either, and the browser is still signed out.
    expect((await whileRefusedAnswer(signIn)).status).toBe(500);
    expect({ ...(await counts('oauth_browser_sessions', 'audit_logs')), signIns: await signIns() }).toEqual(before);
    expect(await signedIn()).toBe(false);
    // The session cannot be stored: no entry claims a sign-in that did not happen.
    expect((await whileRefusedAnswer(signIn, 'oauth_browser_sessions')).status).toBe(500);
    expect({ ...(await counts('oauth_browser_sessions', 'audit_logs')), signIns: await signIns() }).toEqual(before);
    expect(await signedIn()).toBe(false);

    // Accepted again: the sign-in goes through with its entry.
    const answer = await signIn();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('value="approve"');
    expect(await signedIn()).toBe(true);
    expect(await signIns()).toBe(before.signIns + 1);
  });
});

async function whileRefusedAnswer<T>(work: () => Promise<T>, table: keyof Database = 'audit_logs'): Promise<T> {
  let answer: T | undefined;
  await whileRefused(async () => {
    answer = await work();
  }, table);
  return answer!;
}

async function auditRows(action: string) {
  return api.server.server.database.db.selectFrom('audit_logs').select('id').where('action', '=', action).execute();
}
