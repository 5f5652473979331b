// After a run of real traffic, no secret is readable in the database file or in
// the logs: keys are stored as keyed hashes, connection credentials encrypted,
// and log lines never carry headers, bodies or query strings.
import { beforeAll, expect, test } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { databaseBytes } from '../support/database-bytes.ts';
import { untypedRequest, mainTenant } from '../support/fixtures.ts';

const secrets: string[] = [];

const api = useTestServer();
beforeAll(async () => {
  secrets.push(api.server.secretKey, api.server.owner.password);
  const key = api.server.secretKey;

  const created = await api
    .as(key)
    .POST('/v1/auth/api-keys', { body: { name: 'CI deploy', type: 'secret', scopes: ['workflows:read'] } });
  secrets.push(created.data!.data.secret);
  const rotated = await api.as(key).POST('/v1/auth/api-keys/{key_id}/rotate', {
    params: { path: { key_id: created.data!.data.id } },
    body: { grace_period_seconds: 60 },
  });
  secrets.push(rotated.data!.data.secret);
  // Used in every way a key can travel, including places it should not be.
  await api.as(rotated.data!.data.secret, { apiKeyHeader: true }).GET('/v1/workflows');
  await api.as(key).GET('/v1/workflows', { params: { query: offContract({ api_key: rotated.data!.data.secret }) } });
  await untypedRequest(api.server, 'GET', `/v1/nope/${rotated.data!.data.secret}`, { key });

  const leaked = await mainTenant(api.server).key({ name: 'Leaked' });
  secrets.push(leaked.secret);
  await api
    .as(null)
    .POST('/v1/credentials/revoke', { body: { credential: leaked.secret, source_url: 'https://gist.example.com/x' } });
  await api.as(leaked.secret).GET('/v1/workflows');

  const slackToken = 'xoxb-7731-SLACK-SECRET-VALUE-0042';
  const stripeKey = 'rk_live_STRIPE_SECRET_VALUE_9911';
  secrets.push(slackToken, stripeKey);
  await api.as(key).POST('/v1/connections', {
    body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: slackToken } },
  });
  await api.as(key).POST('/v1/connections', {
    body: { name: 'Stripe', provider: 'stripe', auth_type: 'api_key', credentials: { api_key: stripeKey } },
  });
  // A body that fails validation while carrying a credential.
  await api.as(key).POST('/v1/connections', {
    body: offContract({ name: 'Bad', provider: 'x', auth_type: 'nope', credentials: { token: slackToken } }),
  });

  await api
    .as(null)
    .POST('/v1/auth/login', { body: { email: api.server.owner.email, password: api.server.owner.password } });
  await api.as(null).POST('/v1/auth/login', {
    body: { email: api.server.owner.email, password: `${api.server.owner.password}-wrong` },
  });
  secrets.push(`${api.server.owner.password}-wrong`);

  await api.server.server.runner.idle();
});

test('the database (SQLite files, or a PostgreSQL dump) holds no plaintext key, password or connection credential', () => {
  const bytes = databaseBytes(api.server);
  // The scan reads real data: the rows are there, by id.
  expect(bytes).toContain('"source_url":"https://gist.example.com/x"');
  for (const secret of secrets)
    expect(bytes.includes(secret), `the database contains ${secret.slice(0, 8)}...`).toBe(false);
});

test('the captured logs hold none of them, but do log the requests', () => {
  const logs = api.server.logs.join('');
  expect(logs).toContain('"operation":"createConnection"');
  for (const secret of secrets) expect(logs, `a log line contains ${secret.slice(0, 8)}...`).not.toContain(secret);
});
