// GET /v1/auth/verify and GET /v1/usage: what the API knows about the caller.
import type { Principal } from '../auth/principal.ts';
import { principalId } from '../auth/principal.ts';
import { isoOrNull } from '../domain/time.ts';
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import type { PolicyStanding, RateLimiter } from '../rate-limit/index.ts';
import { ok } from './envelope.ts';

export function credentialInfo(principal: Principal) {
  return {
    authenticated: true as const,
    auth_method: principal.method,
    user_id: principal.method === 'api_key' ? null : principal.userId,
    account_id: principal.accountId,
    project_id: principal.projectId,
    environment: principal.environment,
    scopes: principal.scopes as never[],
    expires_at: isoOrNull(principal.expiresAt),
    key_id: principal.method === 'api_key' ? principal.keyId : null,
    key_type: principal.method === 'api_key' ? principal.keyType : null,
    client_id: principal.method === 'oauth' ? principal.clientId : null,
  };
}

function standing(policy: PolicyStanding) {
  const reset = Math.ceil(policy.resetAtMs / 1000);
  return {
    name: policy.name,
    applies_to: policy.appliesTo as 'category' | 'plan' | 'auth_method' | 'client_ip',
    limit: policy.limit,
    window_seconds: policy.windowSeconds,
    used: policy.used,
    remaining: policy.remaining,
    reset,
    reset_at: new Date(reset * 1000).toISOString().replace('.000Z', 'Z'),
  };
}

export function credentialHandlers(limiter: RateLimiter): Pick<Handlers, 'verifyCredentials' | 'getUsage'> {
  return {
    verifyCredentials({ context }) {
      return Promise.resolve({ status: 200, body: ok(credentialInfo(principalOf(context))) });
    },
    async getUsage({ context }) {
      const principal = principalOf(context);
      const policies = await limiter.usage({
        plan: principal.plan,
        accountId: principal.accountId,
        authMethod: principal.method,
        principalId: principalId(principal),
        clientIp: context.ip,
      });
      const displayed =
        principal.method === 'api_key'
          ? { type: 'api_key' as const, id: principal.keyId }
          : principal.method === 'jwt'
            ? { type: 'user' as const, id: principal.userId }
            : { type: 'oauth_token' as const, id: principal.clientId };
      return {
        status: 200,
        body: ok({
          plan: principal.plan,
          principal: displayed,
          governing_policy: context.rateLimit?.governing.name ?? policies[0]?.name ?? 'read',
          policies: policies.map(standing),
        }),
      };
    },
  };
}
