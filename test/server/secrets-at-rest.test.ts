// After a run of real traffic, no secret is readable in the database file or in
// the logs: keys are stored as keyed hashes, connection credentials encrypted,
// and log lines never carry headers, bodies or query strings.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { databaseBytes } from '../support/database-bytes.ts';
import { call, mainTenant } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
const secrets: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  secrets.push(server.secretKey, server.owner.password);
  const key = server.secretKey;

  const created = await call(server, 'POST', '/v1/auth/api-keys', { key, body: { name: 'CI deploy', type: 'secret', scopes: ['workflows:read'] } });
  secrets.push(created.body.data.secret);
  const rotated = await call(server, 'POST', `/v1/auth/api-keys/${created.body.data.id}/rotate`, { key, body: { grace_period_seconds: 60 } });
  secrets.push(rotated.body.data.secret);
  // Used in every way a key can travel, including places it should not be.
  await call(server, 'GET', '/v1/workflows', { key: rotated.body.data.secret, apiKeyHeader: true });
  await call(server, 'GET', `/v1/workflows?api_key=${rotated.body.data.secret}`, { key });
  await call(server, 'GET', `/v1/nope/${rotated.body.data.secret}`, { key });

  const leaked = await mainTenant(server).key({ name: 'Leaked' });
  secrets.push(leaked.secret);
  await call(server, 'POST', '/v1/credentials/revoke', { body: { credential: leaked.secret, source_url: 'https://gist.example.com/x' } });
  await call(server, 'GET', '/v1/workflows', { key: leaked.secret });

  const slackToken = 'xoxb-7731-SLACK-SECRET-VALUE-0042';
  const stripeKey = 'rk_live_STRIPE_SECRET_VALUE_9911';
  secrets.push(slackToken, stripeKey);
  await call(server, 'POST', '/v1/connections', { key, body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: slackToken } } });
  await call(server, 'POST', '/v1/connections', { key, body: { name: 'Stripe', provider: 'stripe', auth_type: 'api_key', credentials: { api_key: stripeKey } } });
  // A body that fails validation while carrying a credential.
  await call(server, 'POST', '/v1/connections', { key, body: { name: 'Bad', provider: 'x', auth_type: 'nope', credentials: { token: slackToken } } });

  await call(server, 'POST', '/v1/auth/login', { body: { email: server.owner.email, password: server.owner.password } });
  await call(server, 'POST', '/v1/auth/login', { body: { email: server.owner.email, password: `${server.owner.password}-wrong` } });
  secrets.push(`${server.owner.password}-wrong`);

  await server.server.runner.idle();
});
afterAll(() => server.close());

test('the database (SQLite files, or a PostgreSQL dump) holds no plaintext key, password or connection credential', () => {
  const bytes = databaseBytes(server);
  // The scan reads real data: the rows are there, by id.
  expect(bytes).toContain('"source_url":"https://gist.example.com/x"');
  for (const secret of secrets) expect(bytes.includes(secret), `the database contains ${secret.slice(0, 8)}...`).toBe(false);
});

test('the captured logs hold none of them, but do log the requests', () => {
  const logs = server.logs.join('');
  expect(logs).toContain('"operation":"createConnection"');
  for (const secret of secrets) expect(logs, `a log line contains ${secret.slice(0, 8)}...`).not.toContain(secret);
});

