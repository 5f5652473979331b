// Revoked token ids: an access token's `jti`, or a whole family's id (`sid`),
// which every access token of a session or grant carries. An entry is kept until
// no token naming it can still be valid, then purged. The list lives in the
// database, on every deployment: a revocation commits with the change that revokes,
// survives any restart of Redis, and is checked against the database while Redis is
// down. Redis only carries, between instances, the invalidation of the answers kept
// in memory (CachedRevocationList).
import type { Invalidation } from '../cache/invalidation.ts';
import { TaggedCache } from '../cache/tagged-cache.ts';
import { revokedTag } from '../cache/tags.ts';
import type { RevokedTokenRepository } from '../db/repositories/revoked-tokens.ts';
import type { Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';

export interface RevocationList {
  /**
   * Revokes `id` until `untilMs`, after which nothing that names it is valid anyway, in `tx`:
   * it commits with the change that revokes, and its audit entry.
   */
  revoke(id: string, untilMs: number, tx: Tx): Promise<void>;
  /** Whether any of `ids` is revoked. */
  anyRevoked(ids: readonly string[]): Promise<boolean>;
}

const PURGE_EVERY_MS = 10 * 60_000;

export class SqlRevocationList implements RevocationList {
  #lastPurge = 0;

  constructor(
    private readonly repository: RevokedTokenRepository,
    private readonly clock: Clock,
  ) {}

  async revoke(id: string, untilMs: number, tx: Tx): Promise<void> {
    await this.repository.revoke(id, iso(untilMs), tx);
    await this.purge(tx);
  }

  async anyRevoked(ids: readonly string[]): Promise<boolean> {
    if (ids.length === 0) return false;
    return this.repository.anyRevoked(ids);
  }

  private async purge(tx: Tx): Promise<void> {
    const now = this.clock();
    if (now - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = now;
    await this.repository.purge(iso(now), tx);
  }
}

/**
 * The answers of a revocation list, remembered per set of ids (an access token asks
 * about its `jti` and its family on every request). A revocation through this list
 * drops the answers naming the id before it resolves (in a unit of work: once it has
 * committed, before the answer), here and on every instance (src/cache/invalidation.ts);
 * a revoked answer stays true, as revocations do.
 */
export class CachedRevocationList implements RevocationList {
  readonly #answers: TaggedCache<boolean>;

  constructor(
    private readonly list: RevocationList,
    private readonly invalidation: Invalidation,
  ) {
    this.#answers = new TaggedCache(invalidation, { maxEntries: 20_000, maxAgeMs: 30_000 });
  }

  async revoke(id: string, untilMs: number, tx: Tx): Promise<void> {
    await this.list.revoke(id, untilMs, tx);
    tx.afterCommit(() => this.invalidation.invalidate([revokedTag(id)]));
  }

  async anyRevoked(ids: readonly string[]): Promise<boolean> {
    const key = ids.join(' ');
    const known = this.#answers.get(key);
    if (known !== undefined) return known;
    const generation = this.#answers.generation;
    const revoked = await this.list.anyRevoked(ids);
    this.#answers.set(key, revoked, ids.map(revokedTag), generation);
    return revoked;
  }
}
