// What the engine needs to know about a request to find the limits that apply to it.
// Ids and addresses only: counter keys are built from these fields, and a key must
// never carry a secret.

export const REQUEST_CATEGORIES = ['read', 'write', 'execute', 'events'] as const;
export type RequestCategory = (typeof REQUEST_CATEGORIES)[number];

/** The categories with a per-principal policy; `events` is limited per client IP instead. */
export const PRINCIPAL_CATEGORIES = ['read', 'write', 'execute'] as const;
export type PrincipalCategory = (typeof PRINCIPAL_CATEGORIES)[number];

export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export const AUTH_METHODS = ['api_key', 'jwt', 'oauth'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface RateLimitSubject {
  readonly category: RequestCategory;
  readonly plan: Plan;
  readonly accountId: string;
  readonly authMethod: AuthMethod;
  /** The API key id, user id or OAuth grant id whose requests the per-principal limits count. */
  readonly principalId: string;
  /** The address the request came from (`req.ip` once the trusted proxies are configured). */
  readonly clientIp: string;
}

/** `GET /v1/usage` reports every policy of the caller, whatever the category of the call. */
export type UsageSubject = Omit<RateLimitSubject, 'category'>;
