// GET and POST /oauth/authorize: the login and consent pages a user's browser is
// sent to by an app, and the form they post. See src/identity/authorization-request.ts
// for which errors are shown here and which go back to the app.
import type { AuditEvent } from '../audit/audit-log.ts';
import { OAuthError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';
import {
  checkAuthorizationRequest,
  identifyApp,
  redirectTo,
  type AuthorizationRequest,
} from '../identity/authorization-request.ts';
import { renderConsentPage, renderLoginPage } from '../identity/authorize-pages.ts';
import type { Identity } from '../identity/identity.ts';
import { recordLogin, recordLoginIn } from '../identity/login-audit.ts';
import { coveredBy } from '../identity/oauth-scopes.ts';
import { isRole, scopesOfRole } from '../identity/roles.ts';
import type { User } from '../identity/user-directory.ts';
import { rateLimitHeaders } from '../rate-limit/index.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type AuthorizeHandlers = Pick<Handlers, 'authorize' | 'submitAuthorization'>;

const HTML = 'text/html; charset=utf-8';

/**
 * The page's own headers: never cached, and a CSP whose form-action also allows
 * the app's redirect URI, since browsers apply form-action to the redirect that
 * follows the form post.
 */
function pageHeaders(request: AuthorizationRequest, setCookie: string): Record<string, string> {
  const appOrigin = new URL(request.redirectUri).origin;
  return {
    'Cache-Control': 'no-store',
    'Set-Cookie': setCookie,
    'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${appOrigin}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

function held(user: User): string[] {
  return isRole(user.role) ? scopesOfRole(user.role) : [];
}

async function consentPage(
  identity: Identity,
  request: AuthorizationRequest,
  user: User,
  cookie: string,
): Promise<string> {
  const granted = coveredBy(held(user), request.scopes);
  return renderConsentPage({
    appName: request.client.name,
    csrfToken: identity.browserSessions.csrfToken(cookie),
    echo: request.echo,
    userEmail: user.email,
    granted,
    withheld: request.scopes.filter((scope) => !granted.includes(scope)),
    projects: await identity.users.projectsOf(user),
    describe: identity.describeScope,
  });
}

function loginPage(
  identity: Identity,
  request: AuthorizationRequest,
  cookie: string,
  alert?: string,
  email?: string,
): string {
  return renderLoginPage({
    appName: request.client.name,
    csrfToken: identity.browserSessions.csrfToken(cookie),
    echo: request.echo,
    ...(alert ? { alert } : {}),
    ...(email ? { email } : {}),
  });
}

/** The entry of a consent: written on its own when denied, in the unit of the code it issues when granted. */
function consentEvent(
  request: AuthorizationRequest,
  user: User | null,
  granted: boolean,
  extra: Record<string, unknown>,
): AuditEvent {
  return {
    action: granted ? 'oauth.consent_granted' : 'oauth.consent_denied',
    outcome: granted ? 'success' : 'denied',
    resource: { type: 'oauth_client', id: request.client.id },
    actor: user
      ? { type: 'user', id: user.id, keyId: null, userId: user.id, clientId: request.client.id }
      : { type: 'anonymous', id: null, keyId: null, userId: null, clientId: request.client.id },
    tenant: user
      ? {
          accountId: user.account_id,
          projectId: (extra.project_id as string | undefined) ?? user.default_project_id,
          environment: null,
        }
      : { accountId: request.client.accountId, projectId: request.client.projectId, environment: null },
    metadata: { client_id: request.client.id, ...extra },
  };
}

export function authorizeHandlers({ identity, audit, transaction }: IdentityHandlerDeps): AuthorizeHandlers {
  const { browserSessions, users } = identity;

  return {
    async authorize({ query, rawHeaders }) {
      const check = await checkAuthorizationRequest(identity.clients, query);
      if (!check.ok) return { status: 302, body: undefined, headers: { Location: check.location } };
      const { request } = check;
      const session = await browserSessions.read(rawHeaders.cookie);
      const cookie = session.cookie ?? browserSessions.newCookie();
      const user = session.userId === null ? null : await users.byId(session.userId);
      const html = user ? await consentPage(identity, request, user, cookie) : loginPage(identity, request, cookie);
      return {
        status: 200,
        body: html,
        contentType: HTML,
        headers: pageHeaders(request, browserSessions.setCookieHeader(cookie)),
      };
    },

    async submitAuthorization({ body, rawHeaders, context }) {
      // An app that cannot be trusted is shown on a page before anything else.
      await identifyApp(identity.clients, body);
      const session = await browserSessions.read(rawHeaders.cookie);
      if (!browserSessions.csrfMatches(session.cookie, body.csrf_token)) {
        throw new OAuthError(
          'invalid_request',
          'This form has expired or did not come from the AetherFlow sign-in page, so nothing was granted. Go back to the app and start again.',
          { status: 403 },
        );
      }
      const cookie = session.cookie!;
      if (body.action !== 'login' && body.action !== 'approve' && body.action !== 'deny') {
        throw new OAuthError(
          'invalid_request',
          'The form is malformed: unknown action. Go back to the app and start again.',
        );
      }
      const check = await checkAuthorizationRequest(identity.clients, body);
      if (!check.ok) return { status: 302, body: undefined, headers: { Location: check.location } };
      const { request } = check;
      const signedIn = session.userId === null ? null : await users.byId(session.userId);

      if (body.action === 'deny') {
        await audit.record(context, consentEvent(request, signedIn, false, {}));
        const location = redirectTo(request.redirectUri, {
          error: 'access_denied',
          error_description: 'The user denied the request.',
          state: request.state,
        });
        return { status: 302, body: undefined, headers: { Location: location } };
      }

      if (body.action === 'login') {
        const same = pageHeaders(request, browserSessions.setCookieHeader(cookie));
        if (!body.email || !body.password) {
          return {
            status: 200,
            body: loginPage(identity, request, cookie, 'Enter your email and password.', body.email),
            contentType: HTML,
            headers: same,
          };
        }
        const attempt = await identity.passwordLogin.attempt(body.email, body.password, context.ip);
        if (attempt.outcome !== 'succeeded')
          await recordLogin(audit, context, attempt, 'consent_page', { client_id: request.client.id });
        if (attempt.outcome === 'blocked') {
          throw new OAuthError(
            'rate_limit_exceeded',
            'For your security, sign-in is paused after too many failed attempts. Try again later.',
            { headers: rateLimitHeaders(attempt.decision) },
          );
        }
        if (attempt.outcome === 'failed') {
          return {
            status: 200,
            body: loginPage(identity, request, cookie, 'The email or password is incorrect.', body.email),
            contentType: HTML,
            headers: same,
          };
        }
        // A new cookie for the signed-in session: a cookie planted before sign-in is worthless after it.
        // The browser session commits with the entry of its sign-in.
        const signedInCookie = await transaction(async (tx) => {
          const fresh = await browserSessions.signIn(attempt.user.id, cookie, tx);
          await recordLoginIn(audit, context, attempt, 'consent_page', { client_id: request.client.id }, tx);
          return fresh;
        });
        return {
          status: 200,
          body: await consentPage(identity, request, attempt.user, signedInCookie),
          contentType: HTML,
          headers: {
            ...rateLimitHeaders(attempt.decision),
            ...pageHeaders(request, browserSessions.setCookieHeader(signedInCookie)),
          },
        };
      }

      // approve
      if (!signedIn) {
        return {
          status: 200,
          body: loginPage(identity, request, cookie, 'Sign in to continue.'),
          contentType: HTML,
          headers: pageHeaders(request, browserSessions.setCookieHeader(cookie)),
        };
      }
      const projectId = body.project_id || signedIn.default_project_id;
      if (!(await users.mayActOn(signedIn, projectId))) {
        throw new OAuthError(
          'invalid_request',
          'The chosen project is not one of your account. Go back to the app and start again.',
        );
      }
      const granted = coveredBy(held(signedIn), request.scopes);
      if (granted.length === 0) {
        await audit.record(
          context,
          consentEvent(request, signedIn, false, { reason: 'no_scope_held', project_id: projectId }),
        );
        const location = redirectTo(request.redirectUri, {
          error: 'access_denied',
          error_description: 'The user holds none of the requested scopes.',
          state: request.state,
        });
        return { status: 302, body: undefined, headers: { Location: location } };
      }
      // The code and the consent's entry commit together.
      const code = await transaction(async (tx) => {
        const issued = await identity.codes.issue(
          {
            clientId: request.client.id,
            userId: signedIn.id,
            accountId: signedIn.account_id,
            projectId,
            environment: request.client.environment,
            redirectUri: request.redirectUri,
            redirectUriSent: request.redirectUriSent,
            scopes: granted,
            codeChallenge: request.codeChallenge,
          },
          tx,
        );
        await audit.recordIn(
          context,
          consentEvent(request, signedIn, true, { scopes: granted, project_id: projectId }),
          tx,
        );
        return issued;
      });
      return {
        status: 302,
        body: undefined,
        headers: { Location: redirectTo(request.redirectUri, { code, state: request.state }) },
      };
    },
  };
}
