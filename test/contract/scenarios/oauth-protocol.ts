// The OAuth 2.0 protocol endpoints: authorize (page and form), token, revoke, introspect.
//
// They speak RFC 6749, not the /v1 conventions: bodies are form-encoded, apps
// authenticate with HTTP Basic (client_secret_basic), errors are `{error,
// error_description}`, and the authorization endpoint answers HTML. Every call
// starts from an app registered with `ctx.admin` (on the mock, the contract's
// example app), so that the same scenario passes against a real server:
//
//   issueToken       client_credentials grant, the app's own Basic credentials
//   revokeToken      revokes a token just issued to the app (RFC 7009: 200, no body)
//   introspectToken  describes a token just issued to the app (RFC 7662)
//   authorize        the app's client_id and exact redirect_uri, a scope it holds,
//                    a state and an S256 PKCE challenge: the login page (200)
//   submitAuthorization
//                    what a browser does next: fetch that page, keep its session
//                    cookie and its hidden csrf_token, post `action=login` with the
//                    target's fixture user: the consent page (200). Signing in is
//                    the step every browser takes first (a fresh page is the login
//                    page, which has no Deny/Allow buttons), it needs only the
//                    fixture user, grants nothing, and answers 200 on every target;
//                    approve/deny need a signed-in session first and answer 302,
//                    which the mock serves only when asked with `Prefer`.
//
// Invalid calls break the contract's schemas only (a missing required parameter,
// a value over its maxLength, an undeclared media type): OAuth parameters are
// bounded strings on purpose (docs/contract-conventions.md), so a wrong but
// well-formed value (`grant_type=password`) is the handler's business, not a 4xx
// every target can be held to here. Each invalid call is otherwise complete and
// authenticated, so that only the violation can explain the 4xx. Undeclared form
// fields cannot be checked on the mock (`notOnMock`): Prism never sees them.
import { createHash, randomBytes } from 'node:crypto';
import type { InvalidCall, Scenario, ScenarioContext } from '../scenario.ts';
import { registerConfidentialOAuthApp, type RegisteredOAuthApp } from './setup.ts';

const FORM = 'application/x-www-form-urlencoded';

type FormValues = Record<string, string | undefined>;

/** The body as `application/x-www-form-urlencoded`; fields left undefined are not sent. */
function formBody(body: unknown): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body as FormValues)) {
    if (value !== undefined) form.append(name, value);
  }
  return form.toString();
}

/** One value form-urlencoded, as RFC 6749 section 2.3.1 wants it before Base64. */
function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice('v='.length);
}

/** `client_secret_basic` (RFC 6749 section 2.3.1). */
function basicAuthorization(app: RegisteredOAuthApp): string {
  const pair = `${formEncode(app.client_id)}:${formEncode(app.client_secret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * What a form post to a token-style endpoint sends: the form Content-Type and the
 * app's Basic credentials, which replace the client's own `Authorization`.
 */
function clientRequest(app: RegisteredOAuthApp) {
  return {
    headers: { 'Content-Type': FORM, Authorization: basicAuthorization(app) },
    bodySerializer: formBody,
  };
}

/** What a browser sends to the authorization endpoint: never an API credential; HTML back. */
function browserRequest(cookie?: string) {
  return {
    headers: { Authorization: null, ...(cookie ? { Cookie: cookie } : {}) },
    parseAs: 'text' as const,
  };
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

/** A fresh authorization request for the app (RFC 6749 section 4.1.1, PKCE S256). */
function authorizationRequest(app: RegisteredOAuthApp) {
  const codeVerifier = base64url(randomBytes(32));
  return {
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: app.redirect_uri,
    scope: app.scopes.join(' '),
    state: base64url(randomBytes(16)),
    code_challenge: base64url(createHash('sha256').update(codeVerifier).digest()),
    code_challenge_method: 'S256',
  };
}

type AuthorizationRequest = ReturnType<typeof authorizationRequest>;

const HTML_ENTITIES: Record<string, string> = {
  amp: '&',
  quot: '"',
  apos: "'",
  lt: '<',
  gt: '>',
  '#39': "'",
  '#x27': "'",
};

/** The value of the first `<input name="{name}" value="...">` of a page, entities decoded. */
function hiddenInputValue(html: string, name: string): string | undefined {
  for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
    const attributes = new Map<string, string>();
    for (const match of tag.matchAll(/([^\s"'<>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g)) {
      const raw = match[2] ?? match[3] ?? match[4] ?? '';
      attributes.set(
        match[1]!.toLowerCase(),
        raw.replace(/&(amp|quot|apos|lt|gt|#39|#x27);/gi, (_, e: string) => HTML_ENTITIES[e.toLowerCase()]!),
      );
    }
    if (attributes.get('name') === name) return attributes.get('value');
  }
  return undefined;
}

/** A `Cookie` header holding every cookie the response set (name=value only), or undefined. */
function cookieHeader(response: Response): string | undefined {
  const pairs = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';', 1)[0]!.trim())
    .filter((pair) => pair.includes('='));
  return pairs.length > 0 ? pairs.join('; ') : undefined;
}

/** The login page a browser is shown for `request`, with what posting its form needs. */
interface OpenedAuthorization {
  app: RegisteredOAuthApp;
  request: AuthorizationRequest;
  /** The page's hidden `csrf_token`. */
  csrfToken: string;
  /** The session cookie(s) the page set, as a `Cookie` header. */
  cookie?: string;
}

/**
 * Registers an app and opens its authorization page as a browser would (no API
 * credential, no `Prefer`: the target's ordinary page), then reads the page's
 * hidden `csrf_token` and session cookie.
 */
async function openAuthorization(ctx: ScenarioContext): Promise<OpenedAuthorization> {
  const app = await registerConfidentialOAuthApp(ctx);
  const request = authorizationRequest(app);
  const page = await ctx.target.anonymous.GET('/oauth/authorize', { params: { query: request }, ...browserRequest() });
  const html = typeof page.data === 'string' ? page.data : '';
  if (page.response.status !== 200) {
    throw new Error(
      `set-up failed: GET /oauth/authorize answered ${page.response.status} ${JSON.stringify(page.error)}`,
    );
  }
  const csrfToken = hiddenInputValue(html, 'csrf_token');
  if (!csrfToken) {
    throw new Error(
      `set-up failed: the page of GET /oauth/authorize has no <input name="csrf_token" value="...">:\n${html.slice(0, 2_000)}`,
    );
  }
  return { app, request, csrfToken, cookie: cookieHeader(page.response) };
}

/**
 * Posts the page's form as a browser would: the original request (as the page's
 * hidden fields carry it), the page's csrf_token and session cookie, and `fields`
 * (the button pressed and what the user typed; an undefined field is left out).
 */
function submitForm(ctx: ScenarioContext, opened: OpenedAuthorization, fields: FormValues, contentType = FORM) {
  const body = { ...opened.request, csrf_token: opened.csrfToken, ...fields };
  const browser = browserRequest(opened.cookie);
  return ctx.api.POST('/oauth/authorize', {
    body: body as never,
    parseAs: browser.parseAs,
    headers: { ...browser.headers, 'Content-Type': contentType },
    bodySerializer: contentType === FORM ? formBody : (value: unknown) => JSON.stringify(value),
  });
}

/** A client_credentials access token issued to `app` (a newly registered one by default), with `ctx.admin`. */
async function issueClientToken(
  ctx: ScenarioContext,
  app?: RegisteredOAuthApp,
): Promise<{ app: RegisteredOAuthApp; accessToken: string }> {
  app ??= await registerConfidentialOAuthApp(ctx);
  const result = await ctx.admin.POST('/oauth/token', {
    body: { grant_type: 'client_credentials', scope: app.scopes.join(' ') },
    ...clientRequest(app),
  });
  if (!result.data) {
    throw new Error(
      `set-up failed: POST /oauth/token answered ${result.response.status} ${JSON.stringify(result.error)}`,
    );
  }
  return { app, accessToken: result.data.access_token };
}

const tooLong = (length: number): string => 'x'.repeat(length);

/** Why the mock cannot check undeclared form fields (additionalProperties, maxProperties). */
const PRISM_DROPS_UNDECLARED_FORM_FIELDS =
  "Prism decodes a form body through the schema's declared properties only, so undeclared fields never reach its validator";

/** An invalid call to a client-authenticated endpoint: a registered app posts `body` (form-encoded). */
function invalidForm(
  name: string,
  path: '/oauth/token' | '/oauth/revoke' | '/oauth/introspect',
  body: (ctx: ScenarioContext, app: RegisteredOAuthApp) => Promise<FormValues> | FormValues,
  notOnMock?: string,
): InvalidCall {
  return {
    name,
    status: 400,
    ...(notOnMock ? { notOnMock } : {}),
    call: async (ctx) => {
      const app = await registerConfidentialOAuthApp(ctx);
      return ctx.api.POST(path, { body: (await body(ctx, app)) as never, ...clientRequest(app) });
    },
  };
}

/** An invalid authorization request: a registered app's valid request with `change` applied. */
function invalidAuthorize(
  name: string,
  change: (request: AuthorizationRequest) => Record<string, string | undefined>,
): InvalidCall {
  return {
    name,
    status: 400,
    call: async (ctx) => {
      const app = await registerConfidentialOAuthApp(ctx);
      const query = change(authorizationRequest(app));
      return ctx.api.GET('/oauth/authorize', { params: { query: query as never }, ...browserRequest() });
    },
  };
}

/** An invalid form post: the page is opened first, so the csrf_token and cookie are right. */
function invalidSubmit(
  name: string,
  fields: (ctx: ScenarioContext) => FormValues,
  options: { status?: number; contentType?: string; notOnMock?: string } = {},
): InvalidCall {
  const { status = 400, contentType = FORM, notOnMock } = options;
  return {
    name,
    status,
    ...(notOnMock ? { notOnMock } : {}),
    call: async (ctx) => submitForm(ctx, await openAuthorization(ctx), fields(ctx), contentType),
  };
}

export const oauthProtocolScenarios: Scenario[] = [
  {
    operationId: 'authorize',
    status: 200,
    call: async (ctx) => {
      const app = await registerConfidentialOAuthApp(ctx);
      return ctx.api.GET('/oauth/authorize', { params: { query: authorizationRequest(app) }, ...browserRequest() });
    },
    invalid: [
      invalidAuthorize('missing client_id', ({ client_id: _, ...request }) => request),
      invalidAuthorize('client_id longer than 64 characters', (request) => ({
        ...request,
        client_id: `cli_${tooLong(61)}`,
      })),
      invalidAuthorize('state longer than 1024 characters', (request) => ({ ...request, state: tooLong(1025) })),
      invalidAuthorize('code_challenge longer than 128 characters', (request) => ({
        ...request,
        code_challenge: tooLong(129),
      })),
    ],
  },
  {
    operationId: 'submitAuthorization',
    status: 200,
    // Sign in on the login page: the consent page follows (200). See the header comment.
    call: async (ctx) => {
      const { email, password } = ctx.target.fixtures.user;
      return submitForm(ctx, await openAuthorization(ctx), { action: 'login', email, password });
    },
    invalid: [
      invalidSubmit('missing action', (ctx) => ({
        email: ctx.target.fixtures.user.email,
        password: ctx.target.fixtures.user.password,
      })),
      invalidSubmit('action longer than 16 characters', () => ({ action: 'approve_all_scopes' })),
      invalidSubmit('missing client_id', () => ({ action: 'deny', client_id: undefined })),
      invalidSubmit('email longer than 254 characters', (ctx) => ({
        action: 'login',
        email: `${tooLong(250)}@example.com`,
        password: ctx.target.fixtures.user.password,
      })),
      invalidSubmit('an undeclared field', () => ({ action: 'deny', grant_all_projects: 'true' }), {
        notOnMock: PRISM_DROPS_UNDECLARED_FORM_FIELDS,
      }),
      invalidSubmit('the form sent as JSON', () => ({ action: 'deny' }), {
        status: 415,
        contentType: 'application/json',
      }),
    ],
  },
  {
    operationId: 'issueToken',
    status: 200,
    call: async (ctx) => {
      const app = await registerConfidentialOAuthApp(ctx);
      return ctx.api.POST('/oauth/token', {
        body: { grant_type: 'client_credentials', scope: app.scopes.join(' ') },
        ...clientRequest(app),
      });
    },
    invalid: [
      invalidForm('missing grant_type', '/oauth/token', () => ({ scope: 'workflows:read' })),
      invalidForm('grant_type longer than 64 characters', '/oauth/token', () => ({ grant_type: tooLong(65) })),
      invalidForm('scope longer than 1000 characters', '/oauth/token', () => ({
        grant_type: 'client_credentials',
        scope: 'workflows:read '.repeat(67),
      })),
      invalidForm(
        'an unknown parameter longer than 2000 characters',
        '/oauth/token',
        () => ({ grant_type: 'client_credentials', resource: tooLong(2001) }),
        PRISM_DROPS_UNDECLARED_FORM_FIELDS,
      ),
      invalidForm(
        'more than 30 parameters',
        '/oauth/token',
        () => ({
          grant_type: 'client_credentials',
          ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, 'x'])),
        }),
        PRISM_DROPS_UNDECLARED_FORM_FIELDS,
      ),
      {
        // The same rule in JSON, which Prism does check.
        name: 'an unknown parameter longer than 2000 characters (JSON body)',
        status: 400,
        call: async (ctx) => {
          const app = await registerConfidentialOAuthApp(ctx);
          return ctx.api.POST('/oauth/token', {
            body: { grant_type: 'client_credentials', resource: tooLong(2001) },
            headers: { Authorization: basicAuthorization(app) },
          });
        },
      },
      {
        name: 'a text/plain body',
        status: 415,
        call: async (ctx) => {
          const app = await registerConfidentialOAuthApp(ctx);
          return ctx.api.POST('/oauth/token', {
            body: { grant_type: 'client_credentials' },
            headers: { 'Content-Type': 'text/plain', Authorization: basicAuthorization(app) },
            bodySerializer: formBody,
          });
        },
      },
    ],
  },
  {
    operationId: 'revokeToken',
    status: 200,
    call: async (ctx) => {
      const { app, accessToken } = await issueClientToken(ctx);
      return ctx.api.POST('/oauth/revoke', {
        body: { token: accessToken, token_type_hint: 'access_token' },
        ...clientRequest(app),
      });
    },
    invalid: [
      invalidForm('missing token', '/oauth/revoke', () => ({ token_type_hint: 'access_token' })),
      invalidForm('empty token', '/oauth/revoke', () => ({ token: '' })),
      invalidForm('token longer than 4096 characters', '/oauth/revoke', () => ({ token: tooLong(4097) })),
    ],
  },
  {
    operationId: 'introspectToken',
    status: 200,
    call: async (ctx) => {
      const { app, accessToken } = await issueClientToken(ctx);
      return ctx.api.POST('/oauth/introspect', {
        body: { token: accessToken, token_type_hint: 'access_token' },
        ...clientRequest(app),
      });
    },
    invalid: [
      invalidForm('missing token', '/oauth/introspect', () => ({ token_type_hint: 'access_token' })),
      invalidForm('token longer than 4096 characters', '/oauth/introspect', () => ({ token: tooLong(4097) })),
      invalidForm('token_type_hint longer than 32 characters', '/oauth/introspect', async (ctx, app) => ({
        token: (await issueClientToken(ctx, app)).accessToken,
        token_type_hint: 'access_token_issued_by_client_credentials',
      })),
    ],
  },
];
