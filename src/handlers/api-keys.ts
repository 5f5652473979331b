import { ApiError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { rateLimitHeaders, type BruteForceGuard } from '../rate-limit/index.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

type ApiKeyHandlers = Pick<
  Handlers,
  'listApiKeys' | 'createApiKey' | 'getApiKey' | 'revokeApiKey' | 'rotateApiKey' | 'reportLeakedCredential'
>;

const DEFAULT_GRACE_SECONDS = 24 * 60 * 60;

/** `guard` limits leaked-key reports per client address (a public operation has no principal to count). */
// A change and its audit entry commit in one transaction; caches hear of it after the commit, before the answer.
export function apiKeyHandlers(
  { apiKeys, audit, transaction }: Services,
  guard: Pick<BruteForceGuard, 'consume'>,
): ApiKeyHandlers {
  return {
    async listApiKeys({ query, context }) {
      const filters = {
        ...(query.status ? { status: query.status } : {}),
        ...(query.type ? { type: query.type } : {}),
      };
      return {
        status: 200,
        body: listOf(
          await apiKeys.list(tenantOf(principalOf(context)), filters, query.limit ?? DEFAULT_LIMIT, query.cursor),
        ),
      };
    },
    async createApiKey({ body, context }) {
      const key = await transaction(async (tx) => {
        const created = await apiKeys.create(principalOf(context), body, tx);
        await audit.recordIn(
          context,
          {
            action: 'api_key.created',
            outcome: 'success',
            resource: { type: 'api_key', id: created.id },
            metadata: {
              type: created.type,
              scopes: created.scopes,
              environment: created.environment,
              expires_at: created.expires_at,
            },
          },
          tx,
        );
        return created;
      });
      return { status: 201, body: ok(key), headers: { 'Cache-Control': 'no-store' } };
    },
    async getApiKey({ params, context }) {
      return { status: 200, body: ok(await apiKeys.get(tenantOf(principalOf(context)), params.key_id)) };
    },
    async revokeApiKey({ params, context }) {
      const key = await transaction(async (tx) => {
        const { key: revoked, changed } = await apiKeys.revoke(principalOf(context), params.key_id, tx);
        if (changed)
          await audit.recordIn(
            context,
            { action: 'api_key.revoked', outcome: 'success', resource: { type: 'api_key', id: revoked.id } },
            tx,
          );
        return revoked;
      });
      return { status: 200, body: ok(key) };
    },
    async rotateApiKey({ params, body, context }) {
      const grace = body?.grace_period_seconds ?? DEFAULT_GRACE_SECONDS;
      const key = await transaction(async (tx) => {
        const rotated = await apiKeys.rotate(principalOf(context), params.key_id, grace, tx);
        await audit.recordIn(
          context,
          {
            action: 'api_key.rotated',
            outcome: 'success',
            resource: { type: 'api_key', id: rotated.id },
            metadata: { grace_period_seconds: grace },
          },
          tx,
        );
        return rotated;
      });
      return { status: 200, body: ok(key), headers: { 'Cache-Control': 'no-store' } };
    },
    async reportLeakedCredential({ body, context }) {
      // Every report counts against its address, whatever it held, and is counted before the
      // lookup. The pipeline only peeks at the failed-credentials guard for public operations,
      // which reports do not feed: without this the endpoint had no limit of its own at all.
      const decision = await guard.consume('leaked_key_reports', { clientIp: context.ip });
      const headers = rateLimitHeaders(decision);
      if (!decision.allowed) {
        throw new ApiError(
          'too_many_attempts',
          'Too many leaked-key reports from this address: wait Retry-After seconds before reporting again.',
          { headers },
        );
      }
      await transaction(async (tx) => {
        const revoked = await apiKeys.revokeLeaked(body.credential, tx);
        if (!revoked) return;
        await audit.recordIn(
          context,
          {
            action: 'api_key.reported_leaked',
            outcome: 'success',
            resource: { type: 'api_key', id: revoked.keyId },
            actor: { type: 'anonymous', id: null, keyId: null, userId: null, clientId: null },
            tenant: { accountId: revoked.accountId, projectId: revoked.projectId, environment: revoked.environment },
            metadata: { source_url: body.source_url ?? null, reporter: body.reporter ?? null },
          },
          tx,
        );
      });
      return { status: 202, body: ok({ received: true as const }), headers };
    },
  };
}
