// The fuzzed server and the real resources the corpus aims at: a workflow, a
// finished run, a connection, a key, an OAuth app, a read-only key and a session,
// all created through the API. Failed-credential guards are raised far above the
// corpus's own count, so every credential case reaches the check it is aimed at.
import { createHash, randomBytes } from 'node:crypto';
import { clientFor } from '../support/api.ts';
import { generousRateLimits, startTestServer, type TestServer } from '../support/server.ts';
import type { FuzzTarget } from './corpus.ts';

export const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

export async function startFuzzedServer(): Promise<{ server: TestServer; target: FuzzTarget }> {
  const server = await startTestServer({ rateLimitConfig: generousRateLimits(10_000) });
  const key = server.secretKey;
  const client = clientFor(server, key);
  const must = async <T>(
    what: string,
    result: Promise<{ status: number; text: string; data?: { data: T } }>,
  ): Promise<T> => {
    const answer = await result;
    if (answer.status >= 300) throw new Error(`set-up ${what} answered ${answer.status}: ${answer.text}`);
    return answer.data!.data;
  };
  const workflow = await must(
    'workflow',
    client.POST('/v1/workflows', {
      body: {
        name: 'Fuzz target',
        trigger: { type: 'manual' },
        steps: [{ id: 'a', type: 'log', message: 'hi {{input.name}}' }],
      },
    }),
  );
  const run = await must(
    'run',
    client.POST('/v1/workflows/{workflow_id}/run', {
      params: { path: { workflow_id: workflow.id } },
      body: { input: { name: 'x' } },
    }),
  );
  const connection = await must(
    'connection',
    client.POST('/v1/connections', {
      body: {
        name: 'Fuzz',
        provider: 'slack',
        auth_type: 'bearer',
        credentials: { token: 'fuzz-connection-token-0001' },
      },
    }),
  );
  const victim = await must(
    'key',
    client.POST('/v1/auth/api-keys', { body: { name: 'Fuzz target key', type: 'secret', scopes: ['workflows:read'] } }),
  );
  const restricted = await must(
    'restricted key',
    client.POST('/v1/auth/api-keys', { body: { name: 'Fuzz read-only', type: 'restricted', scopes: ['read'] } }),
  );
  const app = await must(
    'oauth client',
    client.POST('/v1/oauth/clients', {
      body: {
        name: 'Fuzz app',
        client_type: 'confidential',
        redirect_uris: [REDIRECT_URI],
        scopes: ['workflows:read'],
      },
    }),
  );
  const session = await must(
    'login',
    clientFor(server, null).POST('/v1/auth/login', {
      body: { email: server.owner.email, password: server.owner.password },
    }),
  );
  await server.server.runner.idle();
  const verifier = randomBytes(32).toString('base64url');
  return {
    server,
    target: {
      ids: {
        workflow_id: workflow.id,
        run_id: run.id,
        connection_id: connection.id,
        key_id: victim.id,
        client_id: app.client_id,
      },
      secretKey: key,
      restrictedKey: restricted.secret,
      sessionToken: session.token,
      authorize: {
        clientId: app.client_id,
        redirectUri: REDIRECT_URI,
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      },
    },
  };
}
