// POST /v1/auth/login, /v1/auth/refresh, /v1/auth/logout: user sessions.
import { ApiError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { recordLogin, recordLoginIn } from '../identity/login-audit.ts';
import { rateLimitHeaders } from '../rate-limit/index.ts';
import { ok } from './envelope.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type SessionHandlers = Pick<Handlers, 'login' | 'refreshSession' | 'logout'>;

/** Responses holding tokens are never cached (RFC 6749 section 5.1). */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

// A session started, refreshed or ended commits in one transaction with its audit entry;
// caches hear of a revocation after the commit, before the answer. A reused refresh token
// is refused, but the revocation of its session commits (see AuditLog.recordDenial).
export function sessionHandlers({ identity, audit, guard, transaction }: IdentityHandlerDeps): SessionHandlers {
  return {
    async login({ body, context }) {
      // Older clients send the email as `username` (the contract takes exactly one of the two).
      const email = body.email ?? body.username ?? '';
      const attempt = await identity.passwordLogin.attempt(email, body.password, context.ip);
      if (attempt.outcome !== 'succeeded') {
        await recordLogin(audit, context, attempt, 'api');
        if (attempt.outcome === 'blocked') {
          throw new ApiError(
            'too_many_attempts',
            'Too many failed logins for this account from this address: wait Retry-After seconds before trying again.',
            {
              headers: rateLimitHeaders(attempt.decision),
            },
          );
        }
        throw new ApiError('invalid_credentials', 'The email or password is incorrect.');
      }
      const { user } = attempt;
      const projectId = body.project_id ?? user.default_project_id;
      // Checked only after the password: it tells nothing to someone who does not know it.
      if (!(await identity.users.mayActOn(user, projectId))) {
        await recordLogin(audit, context, { ...attempt, outcome: 'failed' }, 'api', { reason: 'project_not_allowed' });
        throw new ApiError('validation_failed', 'body.project_id is not a project of your account.', {
          details: [{ location: 'body.project_id', message: 'is not a project of your account' }],
        });
      }
      const session = await transaction(async (tx) => {
        const started = await identity.sessions.start(user, projectId, tx);
        await recordLoginIn(
          audit,
          context,
          attempt,
          'api',
          { session_id: started.family.id, jti: started.jti, project_id: projectId },
          tx,
        );
        return started;
      });
      return { status: 200, body: ok(session.tokens), headers: { ...rateLimitHeaders(attempt.decision), ...NO_STORE } };
    },

    async refreshSession({ body, context }) {
      // The unit returns the outcome, refusals included, and the refusal is thrown only once
      // it has committed: the revocation of a reused token's session must not roll back.
      const { result, entryFailure } = await transaction(async (tx) => {
        const refreshed = await identity.sessions.refresh(body.refresh_token, tx);
        if (refreshed.outcome === 'reused') {
          const { family } = refreshed;
          const failure = await audit.recordDenial(
            context,
            {
              action: 'token.refresh_reuse_detected',
              outcome: 'denied',
              resource: family.user_id ? { type: 'user', id: family.user_id } : null,
              actor: { type: 'anonymous', id: null, keyId: null, userId: null, clientId: null },
              tenant: { accountId: family.account_id, projectId: family.project_id, environment: null },
              metadata: { session_id: family.id, revoked: 'session' },
            },
            tx,
          );
          return { result: refreshed, entryFailure: failure };
        }
        if (refreshed.outcome === 'refreshed') {
          const { family } = refreshed;
          await audit.recordIn(
            context,
            {
              action: 'token.refreshed',
              outcome: 'success',
              resource: { type: 'user', id: family.user_id! },
              actor: { type: 'user', id: family.user_id, keyId: null, userId: family.user_id, clientId: null },
              tenant: { accountId: family.account_id, projectId: family.project_id, environment: null },
              metadata: { session_id: family.id, jti: refreshed.jti },
            },
            tx,
          );
        }
        return { result: refreshed, entryFailure: null };
      });
      if (result.outcome !== 'refreshed') {
        await guard.recordFailure('failed_credentials', { clientIp: context.ip });
        if (entryFailure) throw entryFailure.error;
        throw new ApiError(
          'invalid_refresh_token',
          'The refresh token is invalid, expired, revoked or was already used: log in again.',
        );
      }
      return { status: 200, body: ok(result.tokens), headers: NO_STORE };
    },

    async logout({ body, context }) {
      const principal = principalOf(context);
      if (principal.method !== 'jwt') {
        throw new ApiError(
          'invalid_token',
          'Logout takes a session token from POST /v1/auth/login: revoke API keys with DELETE /v1/auth/api-keys/{key_id}, and OAuth app tokens at /oauth/revoke.',
        );
      }
      await transaction(async (tx) => {
        await identity.sessions.end(principal, body?.refresh_token, tx);
        await audit.recordIn(
          context,
          {
            action: 'auth.logout',
            outcome: 'success',
            resource: { type: 'user', id: principal.userId },
            tenant: { accountId: principal.accountId, projectId: principal.projectId, environment: null },
            metadata: {
              session_id: principal.sessionId,
              jti: principal.tokenId,
              also_revoked_refresh_family: body?.refresh_token !== undefined,
            },
          },
          tx,
        );
      });
      return { status: 200, body: ok({ revoked: true as const }) };
    },
  };
}
