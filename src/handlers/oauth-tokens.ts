// POST /oauth/token, /oauth/revoke, /oauth/introspect: the endpoints apps call
// with their own credentials. Errors are OAuthErrors (RFC 6749 form); failed
// client authentication and bad codes or refresh tokens count against the
// client address's failed-credentials limit. What a grant issues or a revocation
// revokes commits in one transaction with its audit entry; a detected theft is
// refused, but what it revokes commits (see AuditLog.recordDenial).
import type { AuditLog } from '../audit/audit-log.ts';
import { outsideFence } from '../auth/reach.ts';
import type { Tx } from '../db/transaction.ts';
import { OAuthError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';
import type { RequestContext } from '../http/request-context.ts';
import { authenticateClient, presentedClient } from '../identity/oauth-client-auth.ts';
import type { OAuthClient } from '../identity/oauth-clients.ts';
import type { GrantOutcome } from '../identity/oauth-grants.ts';
import type { Family } from '../identity/token-families.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type OAuthTokenHandlers = Pick<Handlers, 'issueToken' | 'revokeToken' | 'introspectToken'>;

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const TOKEN_TYPE_HINTS = new Set(['access_token', 'refresh_token']);

type RawHeaders = Record<string, string | string[] | undefined>;

function authorizationHeader(headers: RawHeaders): string | undefined {
  const value = headers.authorization;
  return Array.isArray(value) ? value[0] : value;
}

function clientActor(client: OAuthClient, family: Family | null) {
  return {
    type: 'oauth_client' as const,
    id: client.id,
    keyId: null,
    userId: family?.user_id ?? null,
    clientId: client.id,
  };
}

function clientTenant(client: OAuthClient, family: Family | null) {
  return family
    ? { accountId: family.account_id, projectId: family.project_id, environment: family.environment }
    : { accountId: client.accountId, projectId: client.projectId, environment: client.environment };
}

async function recordGrant(
  audit: AuditLog,
  context: RequestContext,
  client: OAuthClient,
  grantType: string,
  outcome: Extract<GrantOutcome, { ok: true }>,
  tx: Tx,
): Promise<void> {
  await audit.recordIn(
    context,
    {
      action: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
      outcome: 'success',
      resource: { type: 'oauth_client', id: client.id },
      actor: clientActor(client, outcome.family),
      tenant: clientTenant(client, outcome.family),
      metadata: {
        grant_type: grantType,
        grant_id: outcome.family.id,
        jti: outcome.jti,
        scope: outcome.response.scope,
        with_refresh: outcome.refreshId !== null,
      },
    },
    tx,
  );
}

export function oauthTokenHandlers({
  identity,
  audit,
  guard,
  transaction,
  clock,
}: IdentityHandlerDeps): OAuthTokenHandlers {
  const failedCredential = (context: RequestContext) =>
    guard.recordFailure('failed_credentials', { clientIp: context.ip });

  async function authenticate(
    context: RequestContext,
    headers: RawHeaders,
    body: { client_id?: unknown; client_secret?: unknown },
    allowPublic: boolean,
  ): Promise<OAuthClient> {
    try {
      return await authenticateClient(identity.clients, presentedClient(authorizationHeader(headers), body), {
        allowPublic,
      });
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_client') await failedCredential(context);
      throw error;
    }
  }

  return {
    async issueToken({ body, rawHeaders, context }) {
      const client = await authenticate(context, rawHeaders, body, true);
      // An app registered by an address-bound key gets tokens only where that key could act.
      if (outsideFence(client.fence, context.ip, clock()) !== null) {
        throw new OAuthError(
          'unauthorized_client',
          'This app may request tokens only from the networks of the key that registered it; this address is not one of them.',
        );
      }
      const grantType = body.grant_type;
      const grants = identity.grants;
      const grant =
        grantType === 'authorization_code'
          ? grants.authorizationCode.bind(grants)
          : grantType === 'refresh_token'
            ? grants.refreshToken.bind(grants)
            : grantType === 'client_credentials'
              ? grants.clientCredentials.bind(grants)
              : null;
      if (!grant)
        throw new OAuthError(
          'unsupported_grant_type',
          'grant_type must be authorization_code, refresh_token or client_credentials.',
        );

      // The unit returns the outcome, refusals included, and the refusal is thrown only once
      // it has committed: what a detected theft revoked must not roll back.
      const { outcome, entryFailure } = await transaction(async (tx) => {
        const granted = await grant(client, body, tx);
        if (granted.ok) {
          await recordGrant(audit, context, client, grantType, granted, tx);
          return { outcome: granted, entryFailure: null };
        }
        if (!granted.theft) return { outcome: granted, entryFailure: null };
        const { family } = granted.theft;
        const failure = await audit.recordDenial(
          context,
          {
            action: granted.theft.action,
            outcome: 'denied',
            resource: { type: 'oauth_client', id: client.id },
            actor: clientActor(client, family),
            tenant: clientTenant(client, family),
            metadata: { grant_type: grantType, grant_id: family?.id ?? null, grant_revoked: family !== null },
          },
          tx,
        );
        return { outcome: granted, entryFailure: failure };
      });
      if (!outcome.ok) {
        if (outcome.error.error === 'invalid_grant') await failedCredential(context);
        if (entryFailure) throw entryFailure.error;
        throw outcome.error;
      }
      return { status: 200, body: outcome.response, headers: NO_STORE };
    },

    async revokeToken({ body, rawHeaders, context }) {
      const client = await authenticate(context, rawHeaders, body, true);
      if (body.token_type_hint !== undefined && !TOKEN_TYPE_HINTS.has(body.token_type_hint)) {
        throw new OAuthError('unsupported_token_type', 'token_type_hint must be access_token or refresh_token.');
      }
      await transaction(async (tx) => {
        const revoked = await identity.revocation.revoke(client, body.token, tx);
        if (!revoked) return;
        const family = await identity.families.getIn(revoked.familyId, tx);
        await audit.recordIn(
          context,
          {
            action: 'token.revoked',
            outcome: 'success',
            resource: { type: 'oauth_client', id: client.id },
            actor: clientActor(client, family),
            tenant: clientTenant(client, family),
            metadata:
              revoked.kind === 'access_token'
                ? { kind: 'access', jti: revoked.jti, grant_id: revoked.familyId }
                : { kind: 'refresh', grant_id: revoked.familyId },
          },
          tx,
        );
      });
      // RFC 7009: the same answer whether or not there was anything to revoke.
      return { status: 200, body: undefined };
    },

    async introspectToken({ body, rawHeaders, context }) {
      const client = await authenticate(context, rawHeaders, body, false);
      return {
        status: 200,
        body: await identity.introspection.introspect(client, body.token),
        headers: { 'Cache-Control': 'no-store' },
      };
    },
  };
}
