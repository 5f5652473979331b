// Verified API keys kept in memory, by the keyed hash of their secret (never the
// secret): what the database said about the key, its secret and its account's plan, so
// that a key presented again is not read again. Dropped when the key is revoked or
// rotated or the plan changes (here or on another instance, see
// src/cache/invalidation.ts); what depends on time or on the caller's address is checked
// by the verifier on every request (src/auth/api-key-verification.ts).
import type { Invalidation } from '../cache/invalidation.ts';
import { TaggedCache } from '../cache/tagged-cache.ts';
import { accountTag, keyTag } from '../cache/tags.ts';
import type { Cidr } from '../net/cidr.ts';
import type { Environment } from './api-key-format.ts';
import type { ApiKeyPrincipal, Plan } from './principal.ts';

/** How long a verified key may be served from memory without reading it again (see TaggedCache). */
export const KEY_CACHE_MAX_AGE_MS = 30_000;

/** What authentication needs to know about a key, as the database said. */
export interface KnownKey {
  id: string;
  type: ApiKeyPrincipal['keyType'];
  accountId: string;
  projectId: string;
  environment: Environment;
  plan: Plan;
  scopes: string[];
  allowed: Cidr[];
  expiresAt: number | null;
  /** When the presented secret stops working (a rotated secret's grace period), or null. */
  secretExpiresAt: number | null;
  revoked: boolean;
}

export class VerifiedKeyCache {
  readonly #keys: TaggedCache<KnownKey>;

  constructor(invalidation: Invalidation) {
    this.#keys = new TaggedCache(invalidation, { maxEntries: 10_000, maxAgeMs: KEY_CACHE_MAX_AGE_MS });
  }

  /** The invalidation count to pass to `remember`, taken before the key is read. */
  get generation(): number {
    return this.#keys.generation;
  }

  get(secretHash: string): KnownKey | undefined {
    return this.#keys.get(secretHash);
  }

  /** Keeps a key read since `generation`, unless it was invalidated meanwhile. */
  remember(secretHash: string, key: KnownKey, generation: number): void {
    this.#keys.set(secretHash, key, [keyTag(key.id), accountTag(key.accountId)], generation);
  }
}
