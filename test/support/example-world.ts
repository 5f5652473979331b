// A real server in which the contract's request examples are true. The examples
// name things a server makes (ids, secrets, codes, tokens, CSRF tokens): for each
// example request this creates them and says which example value stands for which
// real one, and with which credential the request is sent. Everything else (names,
// scopes, filters, the cursor, the PKCE verifier, the owner's email and password)
// is sent as the example writes it. The server's clock stands at the examples'
// "now" (2026-11-20), so their dates (key expiries) are in the future.
//
// Used by the test that sends every request example to the server and by the test
// that runs the docs' code samples, which are written from the same examples.
import { createHash } from 'node:crypto';
import type { components } from '../../generated/api.d.ts';
import {
  authorizationUrl,
  authorizeInBrowser,
  basicAuth,
  Browser,
  formFields,
  movableClock,
  oauthForm,
  startIdentityServer,
  type IdentityServer,
} from '../identity/support.ts';
import { createApiClient, type AnyAnswer } from './api.ts';
import type { ExampleRequest } from './example-requests.ts';

/** The example values that name things a server makes. */
export const EXAMPLE = {
  workflowId: 'wf_8YR4gJzvRZgYZocv0h3DdJlU',
  runId: 'run_YlnvgeWPdcp4PIaOTLjDUuA8',
  connectionId: 'conn_NEEqH5WxXro6FwVOWEwtVQXl',
  keyId: 'key_IcPmIPE3Ti4aU0RCnhYaZI9Y',
  projectId: 'proj_r2BfGQU3bJJlCzedk8C61BQJ',
  webApp: { clientId: 'cli_fg16OvHFc8J1s7NQhvgZ7Xg5', clientSecret: 'CHTC6iUG2K-A4dcdo_NM0XPwE-DO7MO5bMETmQiLFmI' },
  publicApp: { clientId: 'cli_hQsa8yaOhfUMz23Us3Nt09pL' },
  machineApp: { clientId: 'cli_9qRbt1K8FCuZr5iMdhZ5Wyzl', clientSecret: '7rcX_cb3Lh1Plka95gdcnxJuVKq1SeT4dI0cNqnTIt0' },
  sessionRefreshToken: 'Y7FVo8baOiVehfs-vCOwLwYFBu1yTtVRb1fbb2C93UA',
  logoutRefreshToken: 'T_X7tKu3oatezJ5Fvar8KtGn_bSt1Eg1PYm5XU2nY_o',
  oauthRefreshToken: 'T_X7tKu3oatezJ5Fvar8KtGn_bSt1Eg1PYm5XU2nY_o',
  revokedRefreshToken: 'k0rmGPlfDYkTKQ-Cto7wubnsY_2Rg7yWXmaVU5BngoA',
  accessToken: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IjIwMjYtMDktZXMyNTYifQ.',
  confidentialCode: '6QSWfy8ru5mUQDa8NV5gs9y3OEYClEw_',
  publicCode: 'dDVIOykBOmQknb_nPYp9V3BG2RssZ1qO',
  codeVerifier: 'P1waIvFpBrQJ9XwVRi94rngkmW1uWMj4GOT2o7Z4IOQ',
  loginCsrf: 'vYv44c8oeqJ6wSTmhh50z242BBdCduOm',
  consentCsrf: 'OOaNLXioS3BsrSz_TwyHGWmReSVgmoBl',
  owner: { email: 'maya.lindqvist@northwind-logistics.com', password: 'correct-horse-battery-staple-42' },
} as const;

/** The credential an example request is sent with. */
export type Credential =
  | { scheme: 'bearer'; kind: 'api_key' | 'session'; token: string }
  | { scheme: 'basic'; clientId: string; clientSecret: string };

/** How to send one example request to the world's server. */
export interface Prepared {
  /** Example value -> real value; an example value ending in `.` stands for every token that starts with it (JWTs). */
  substitutions: Array<[string, string]>;
  credential: Credential | null;
  /** The login page's cookie, for the form posts a browser makes. */
  cookie?: string;
}

/** The Authorization header of a credential. */
export function authorizationOf(credential: Credential): string {
  return credential.scheme === 'bearer'
    ? `Bearer ${credential.token}`
    : basicAuth(credential.clientId, credential.clientSecret);
}

export interface ExampleWorld {
  server: IdentityServer;
  /** A session (JWT) of the owner: live environment, every scope. */
  sessionToken: string;
  prepare(request: ExampleRequest): Promise<Prepared>;
  close(): Promise<void>;
}

/** Applies `substitutions` to a string (a value, or the text of a code sample). */
export function substitute(substitutions: Array<[string, string]>, value: string): string {
  let result = value;
  for (const [example, real] of substitutions) {
    if (example.endsWith('.')) {
      const escaped = example.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      result = result.replace(new RegExp(`${escaped}[A-Za-z0-9_.-]*`, 'g'), () => real);
    } else {
      result = result.split(example).join(real);
    }
  }
  return result;
}

interface App {
  client_id: string;
  client_secret: string | null;
}

export async function startExampleWorld(): Promise<ExampleWorld> {
  const time = movableClock(Date.parse('2026-11-20T09:30:00Z'));
  const server = await startIdentityServer({
    clock: time.clock,
    env: { AETHERFLOW_OWNER_EMAIL: EXAMPLE.owner.email, AETHERFLOW_OWNER_PASSWORD: EXAMPLE.owner.password },
  });
  const base = server.baseUrl;
  const must = async <A extends AnyAnswer>(
    what: string,
    call: Promise<A>,
    status = [200, 201, 202],
  ): Promise<NonNullable<A['data']>> => {
    const answer = await call;
    if (!status.includes(answer.status)) throw new Error(`set-up: ${what} answered ${answer.status} ${answer.text}`);
    return answer.data as NonNullable<A['data']>;
  };
  const logIn = async () =>
    (await must('login', createApiClient(base, null).POST('/v1/auth/login', { body: EXAMPLE.owner }))).data as {
      token: string;
      refresh_token: string;
    };
  const session = await logIn();

  /** A fresh secret key of the owner's live data with every scope: one per request, so idempotency keys never meet. */
  const freshKey = async () =>
    (
      await must(
        'a fresh key',
        createApiClient(base, session.token).POST('/v1/auth/api-keys', {
          body: { name: 'Example request', type: 'secret', scopes: ['read', 'write', 'workflows:execute'] },
        }),
      )
    ).data.secret;
  const bearer = (token: string, kind: 'api_key' | 'session' = 'api_key'): Credential => ({
    scheme: 'bearer',
    kind,
    token,
  });

  const createWorkflow = async (
    key: string,
    steps: components['schemas']['WorkflowStep'][] = [{ id: 'hello', type: 'log', message: 'Hello' }],
  ) =>
    (
      await must(
        'a workflow',
        createApiClient(base, key).POST('/v1/workflows', {
          body: { name: 'Example', trigger: { type: 'manual' }, steps },
        }),
      )
    ).data.id;
  const startRun = async (key: string, steps?: components['schemas']['WorkflowStep'][]) => {
    const workflowId = await createWorkflow(key, steps);
    return (
      await must(
        'a run',
        createApiClient(base, key).POST('/v1/workflows/{workflow_id}/run', {
          params: { path: { workflow_id: workflowId } },
          body: {},
        }),
      )
    ).data as { id: string; workflow_id: string };
  };

  /** Apps registered from the createOAuthClient examples themselves. */
  const registerApp = async (body: components['schemas']['OAuthClientCreate']): Promise<App> =>
    (await must('an app', createApiClient(base, session.token).POST('/v1/oauth/clients', { body }))).data;
  const webApp = () =>
    registerApp({
      name: 'Acme Reports',
      client_type: 'confidential',
      redirect_uris: ['https://app.acme-reports.com/oauth/callback'],
      scopes: ['workflows:read', 'runs:read'],
    });
  const publicApp = () =>
    registerApp({
      name: 'Fieldnote CLI',
      client_type: 'public',
      redirect_uris: ['http://127.0.0.1:8765/callback'],
      scopes: ['workflows:read', 'workflows:execute', 'runs:read'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
  const machineApp = () =>
    registerApp({
      name: 'Northwind ETL sync',
      client_type: 'confidential',
      redirect_uris: ['https://etl.northwind-logistics.com/oauth/callback'],
      scopes: ['events:write'],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    });

  /** The authorization parameters of the examples (state, the S256 challenge of the example verifier) for `app`. */
  const authorizationParameters = (app: App, redirectUri: string) => ({
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: redirectUri,
    scope: 'workflows:read runs:read',
    state: 'YG1u44glPgQxyLl1MymzUQ',
    code_challenge: createHash('sha256').update(EXAMPLE.codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  /** A code the owner granted `app`, bound to the example verifier. */
  const code = async (app: App, redirectUri: string) => {
    const { location } = await authorizeInBrowser(
      base,
      authorizationUrl(base, authorizationParameters(app, redirectUri)),
      EXAMPLE.owner,
    );
    const granted = location.searchParams.get('code');
    if (!granted) throw new Error(`set-up: no code in ${location.href}`);
    return granted;
  };
  const tokens = async (app: App, redirectUri: string) => {
    const form = {
      grant_type: 'authorization_code',
      code: await code(app, redirectUri),
      redirect_uri: redirectUri,
      code_verifier: EXAMPLE.codeVerifier,
    };
    const answer = app.client_secret
      ? await oauthForm(base, '/oauth/token', form, { id: app.client_id, secret: app.client_secret })
      : await oauthForm(base, '/oauth/token', { ...form, client_id: app.client_id });
    if (answer.status !== 200)
      throw new Error(`set-up: token exchange answered ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as { access_token: string; refresh_token: string };
  };
  const basic = (app: App): Credential => ({
    scheme: 'basic',
    clientId: app.client_id,
    clientSecret: app.client_secret ?? '',
  });

  const WEB_REDIRECT = 'https://app.acme-reports.com/oauth/callback';
  const PUBLIC_REDIRECT = 'http://127.0.0.1:8765/callback';
  const webSubstitutions = (app: App): Array<[string, string]> => [
    [EXAMPLE.webApp.clientId, app.client_id],
    [EXAMPLE.webApp.clientSecret, app.client_secret ?? ''],
  ];

  const prepare = async (request: ExampleRequest): Promise<Prepared> => {
    const none: Prepared = { substitutions: [], credential: null };
    switch (request.operationId) {
      case 'getWorkflow':
      case 'replaceWorkflow':
      case 'deleteWorkflow':
      case 'runWorkflow': {
        const key = await freshKey();
        return { ...none, credential: bearer(key), substitutions: [[EXAMPLE.workflowId, await createWorkflow(key)]] };
      }
      case 'getRun': {
        const key = await freshKey();
        return { ...none, credential: bearer(key), substitutions: [[EXAMPLE.runId, (await startRun(key)).id]] };
      }
      case 'cancelRun': {
        // A run that waits, so it is still running when cancelled.
        const key = await freshKey();
        return {
          ...none,
          credential: bearer(key),
          substitutions: [[EXAMPLE.runId, (await startRun(key, [{ id: 'settle', type: 'wait', seconds: 300 }])).id]],
        };
      }
      case 'retryRun': {
        const key = await freshKey();
        const run = await startRun(key, [{ id: 'settle', type: 'wait', seconds: 300 }]);
        await must(
          'cancel',
          createApiClient(base, key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } }),
        );
        return { ...none, credential: bearer(key), substitutions: [[EXAMPLE.runId, run.id]] };
      }
      case 'getConnection':
      case 'deleteConnection': {
        const key = await freshKey();
        const connection = await must(
          'a connection',
          createApiClient(base, key).POST('/v1/connections', {
            body: {
              name: 'Slack',
              provider: 'slack',
              auth_type: 'bearer',
              credentials: { token: 'example-only-token-3f9a1c7e' },
            },
          }),
        );
        return { ...none, credential: bearer(key), substitutions: [[EXAMPLE.connectionId, connection.data.id]] };
      }
      case 'getApiKey':
      case 'revokeApiKey':
      case 'rotateApiKey': {
        const key = await freshKey();
        const other = await must(
          'a key',
          createApiClient(base, key).POST('/v1/auth/api-keys', {
            body: { name: 'To manage', type: 'restricted', scopes: ['runs:read'] },
          }),
        );
        return { ...none, credential: bearer(key), substitutions: [[EXAMPLE.keyId, other.data.id]] };
      }
      case 'createApiKey':
        // The examples make live keys: a live credential may (a test key would get environment_mismatch).
        return { ...none, credential: bearer(await freshKey()) };
      case 'login':
        return { ...none, substitutions: [[EXAMPLE.projectId, server.projectId]] };
      case 'refreshSession':
        return { ...none, substitutions: [[EXAMPLE.sessionRefreshToken, (await logIn()).refresh_token]] };
      case 'logout': {
        const fresh = await logIn();
        return {
          ...none,
          credential: bearer(fresh.token, 'session'),
          substitutions: [[EXAMPLE.logoutRefreshToken, fresh.refresh_token]],
        };
      }
      case 'getOAuthClient':
      case 'deleteOAuthClient':
      case 'authorize':
        return {
          ...none,
          credential: request.secured ? bearer(await freshKey()) : null,
          substitutions: webSubstitutions(await webApp()),
        };
      case 'submitAuthorization': {
        const app = await webApp();
        const browser = new Browser(base);
        const page = await browser.get(authorizationUrl(base, authorizationParameters(app, WEB_REDIRECT)));
        const loginFields = formFields(await page.text());
        const cookie = () => [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
        if (request.name === 'login')
          return {
            credential: null,
            cookie: cookie(),
            substitutions: [...webSubstitutions(app), [EXAMPLE.loginCsrf, loginFields.csrf_token ?? '']],
          };
        const consent = await browser.post('/oauth/authorize', { ...loginFields, ...EXAMPLE.owner, action: 'login' });
        const consentFields = formFields(await consent.text());
        return {
          credential: null,
          cookie: cookie(),
          substitutions: [
            ...webSubstitutions(app),
            [EXAMPLE.consentCsrf, consentFields.csrf_token ?? ''],
            [EXAMPLE.projectId, server.projectId],
          ],
        };
      }
      case 'issueToken': {
        if (request.name.startsWith('client_credentials')) {
          const app = await machineApp();
          return {
            ...none,
            substitutions: [
              [EXAMPLE.machineApp.clientId, app.client_id],
              [EXAMPLE.machineApp.clientSecret, app.client_secret ?? ''],
            ],
          };
        }
        if (request.name.startsWith('public_client')) {
          const app = await publicApp();
          return {
            ...none,
            substitutions: [
              [EXAMPLE.publicApp.clientId, app.client_id],
              [EXAMPLE.publicCode, await code(app, PUBLIC_REDIRECT)],
            ],
          };
        }
        const app = await webApp();
        if (request.name.startsWith('refresh_token')) {
          return {
            ...none,
            credential: basic(app),
            substitutions: [[EXAMPLE.oauthRefreshToken, (await tokens(app, WEB_REDIRECT)).refresh_token]],
          };
        }
        return {
          ...none,
          credential: basic(app),
          substitutions: [[EXAMPLE.confidentialCode, await code(app, WEB_REDIRECT)]],
        };
      }
      case 'revokeToken':
      case 'introspectToken': {
        if (request.name.startsWith('public_client')) {
          const app = await publicApp();
          return {
            ...none,
            substitutions: [
              [EXAMPLE.publicApp.clientId, app.client_id],
              [EXAMPLE.accessToken, (await tokens(app, PUBLIC_REDIRECT)).access_token],
            ],
          };
        }
        if (request.body?.mediaType === 'application/json') {
          // client_secret_post, in the body: the machine app, with a token of its own.
          const app = await machineApp();
          const issued = await oauthForm(base, '/oauth/token', {
            grant_type: 'client_credentials',
            scope: 'events:write',
            client_id: app.client_id,
            client_secret: app.client_secret ?? '',
          });
          if (issued.status !== 200)
            throw new Error(`set-up: client_credentials answered ${issued.status} ${JSON.stringify(issued.body)}`);
          return {
            ...none,
            substitutions: [
              [EXAMPLE.machineApp.clientId, app.client_id],
              [EXAMPLE.machineApp.clientSecret, app.client_secret ?? ''],
              [EXAMPLE.accessToken, issued.body.access_token as string],
            ],
          };
        }
        const app = await webApp();
        const issued = await tokens(app, WEB_REDIRECT);
        return {
          ...none,
          credential: basic(app),
          substitutions: [
            [EXAMPLE.revokedRefreshToken, issued.refresh_token],
            [EXAMPLE.accessToken, issued.access_token],
          ],
        };
      }
      default:
        return { ...none, credential: request.secured ? bearer(await freshKey()) : null };
    }
  };

  return { server, sessionToken: session.token, prepare, close: () => server.close() };
}
