// Helpers of the identity tests: a real server whose public URL (the token
// issuer) is the address it is reached at (startIdentityServer, kept in
// test/support/server.ts beside startTestServer), a clock the test moves, a small
// cookie-keeping "browser" that drives the login and consent pages over HTTP as a
// user's browser would, and the requests apps and users make.
import { createHash, randomBytes } from 'node:crypto';
import type { components } from '../../generated/api.d.ts';
import { createApiClient } from '../support/api.ts';
import { startIdentityServer, type IdentityServer, type TestServer } from '../support/server.ts';

export { startIdentityServer, type IdentityServer };

/** A clock the test moves; starts at the real time. */
export function movableClock(start = Date.now()) {
  let now = start;
  const clock = () => now;
  return {
    clock,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export interface Json {
  status: number;
  headers: Headers;
  body: any;
}

async function asJson(response: Response): Promise<Json> {
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body };
}

/** A form post to an OAuth endpoint, with HTTP Basic client credentials when given. */
export async function oauthForm(
  base: string,
  path: string,
  form: Record<string, string | undefined>,
  basic?: { id: string; secret: string },
): Promise<Json> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) if (value !== undefined) body.append(name, value);
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (basic) headers.Authorization = basicAuth(basic.id, basic.secret);
  return asJson(await fetch(`${base}${path}`, { method: 'POST', headers, body, redirect: 'manual' }));
}

/** RFC 6749 section 2.3.1: each part form-urlencoded, then Base64. */
export function basicAuth(id: string, secret: string): string {
  const encode = (value: string) => new URLSearchParams([['v', value]]).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export interface Session {
  token: string;
  refresh_token: string;
  expires_at: string;
  scopes: string[];
}

export async function login(
  base: string,
  email: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<Session> {
  const response = await createApiClient(base, null).POST('/v1/auth/login', { body: { email, password, ...extra } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  return response.data!.data;
}

export interface App {
  client_id: string;
  client_secret: string | null;
  redirect_uris: string[];
  scopes: string[];
}

export const REDIRECT_URI = 'https://app.example-reports.com/oauth/callback';

/** Registers an app with the server's all-scopes test key (or `credential`). */
export async function registerApp(
  server: TestServer,
  input: Partial<components['schemas']['OAuthClientCreate']> = {},
  credential = server.secretKey,
): Promise<App> {
  const response = await createApiClient(server.baseUrl, credential).POST('/v1/oauth/clients', {
    body: {
      name: 'Example Reports',
      client_type: 'confidential',
      redirect_uris: [REDIRECT_URI],
      scopes: ['workflows:read', 'runs:read'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      ...input,
    },
  });
  if (response.status !== 201) throw new Error(`app registration failed: ${response.status} ${response.text}`);
  return response.data!.data;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', '#39': "'", lt: '<', gt: '>' };
const decode = (text: string) => text.replace(/&(amp|quot|#39|lt|gt);/g, (_, e: string) => ENTITIES[e]!);

/** A page's form as a browser would submit it: its hidden inputs and each select's selected option. */
export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const type = /\btype="([^"]*)"/.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(tag)?.[1];
    if (name && type === 'hidden') fields[decode(name)] = decode(value ?? '');
  }
  for (const [, name, options] of html.matchAll(/<select name="([^"]*)">(.*?)<\/select>/gs)) {
    const selected = /<option value="([^"]*)" selected>/.exec(options!)?.[1];
    if (selected !== undefined) fields[decode(name!)] = decode(selected);
  }
  return fields;
}

/** A browser: keeps cookies (name=value, as set), never follows redirects, reads HTML. */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** The raw Set-Cookie values received, for checks of their attributes. */
  readonly setCookies: string[] = [];

  constructor(private readonly base: string) {}

  async get(pathOrUrl: string): Promise<Response> {
    return this.keep(await fetch(this.url(pathOrUrl), { headers: this.cookieHeader(), redirect: 'manual' }));
  }

  async post(path: string, fields: Record<string, string | undefined>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) body.append(name, value);
    return this.keep(
      await fetch(this.url(path), {
        method: 'POST',
        headers: { ...this.cookieHeader(), 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      }),
    );
  }

  private url(pathOrUrl: string): string {
    return pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { Cookie: [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ') } : {};
  }

  private keep(response: Response): Response {
    for (const cookie of response.headers.getSetCookie()) {
      this.setCookies.push(cookie);
      const [pair] = cookie.split(';', 1);
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return response;
  }
}

export interface AuthorizationOutcome {
  /** The redirect the browser was sent to (Location), parsed. */
  location: URL;
  browser: Browser;
}

/**
 * What a user does in the browser for an app: opens the authorization URL, signs in on
 * the login page, and presses Allow (or `action`) on the consent page. Returns where the
 * browser is sent back to.
 */
export async function authorizeInBrowser(
  base: string,
  authorizationUrl: string,
  user: { email: string; password: string },
  options: { action?: 'approve' | 'deny'; browser?: Browser; projectId?: string } = {},
): Promise<AuthorizationOutcome> {
  const browser = options.browser ?? new Browser(base);
  const page = await browser.get(authorizationUrl);
  if (page.status === 302) return { location: new URL(page.headers.get('location')!), browser };
  const loginHtml = await page.text();
  if (page.status !== 200) throw new Error(`authorization page answered ${page.status}: ${loginHtml.slice(0, 500)}`);
  let consentHtml = loginHtml;
  if (loginHtml.includes('name="password"')) {
    const signedIn = await browser.post('/oauth/authorize', {
      ...formFields(loginHtml),
      email: user.email,
      password: user.password,
      action: 'login',
    });
    consentHtml = await signedIn.text();
    if (signedIn.status !== 200 || !consentHtml.includes('value="approve"'))
      throw new Error(`sign-in did not lead to the consent page: ${signedIn.status} ${consentHtml.slice(0, 800)}`);
  }
  const fields = formFields(consentHtml);
  if (options.projectId) fields.project_id = options.projectId;
  const answer = await browser.post('/oauth/authorize', { ...fields, action: options.action ?? 'approve' });
  if (answer.status !== 302)
    throw new Error(`consent answered ${answer.status}: ${(await answer.text()).slice(0, 500)}`);
  return { location: new URL(answer.headers.get('location')!), browser };
}

export function authorizationUrl(base: string, params: Record<string, string | undefined>): string {
  const url = new URL('/oauth/authorize', base);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** Code and PKCE verifier of a completed authorization of `app` by `user` (the owner by default). */
export async function authorizationCode(
  server: IdentityServer,
  app: App,
  options: { scope?: string; user?: { email: string; password: string } } = {},
) {
  const pkce = pkcePair();
  const state = randomBytes(12).toString('base64url');
  const url = authorizationUrl(server.baseUrl, {
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: app.redirect_uris[0],
    scope: options.scope ?? app.scopes.join(' '),
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  const { location } = await authorizeInBrowser(server.baseUrl, url, options.user ?? server.owner);
  const code = location.searchParams.get('code');
  if (!code || location.searchParams.get('state') !== state) throw new Error(`no code in ${location.href}`);
  return { code, verifier: pkce.verifier, redirectUri: app.redirect_uris[0]! };
}

/** Exchanges a code with client_secret_basic; returns the raw answer. */
export function exchangeCode(
  server: IdentityServer,
  app: App,
  code: string,
  verifier: string | undefined,
  redirectUri = app.redirect_uris[0],
) {
  return oauthForm(
    server.baseUrl,
    '/oauth/token',
    { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
    { id: app.client_id, secret: app.client_secret! },
  );
}

/** The audit entries of the server's database with `action`, newest last. */
export async function auditEntries(server: TestServer, action: string) {
  return server.server.database.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('action', '=', action)
    .orderBy('occurred_at')
    .execute();
}
