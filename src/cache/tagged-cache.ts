// A bounded in-memory cache whose entries carry tags (`api-key:key_...`,
// `account:acct_...`) and disappear when an invalidation names one of them (see
// invalidation.ts). Values are state read from the database, never decisions: what
// depends on time (an expiry, a grace period) is checked by the caller on every use.
//
// The race it closes: a request reads a key from the database, a revocation commits
// and invalidates, then the request stores what it read. So a caller takes
// `generation` before it reads, and `set` keeps the value only if no invalidation
// happened since.
import type { Invalidation } from './invalidation.ts';

export interface TaggedCacheOptions {
  /** Entries kept at most; the oldest goes first. */
  maxEntries: number;
  /**
   * How long an entry may be served without being read again: the bound on staleness
   * for a change that no invalidation announces (a manual SQL update).
   */
  maxAgeMs: number;
  /** Monotonic enough for ages; `performance.now` by default. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  tags: readonly string[];
  storedAt: number;
}

export class TaggedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #now: () => number;

  constructor(
    private readonly invalidation: Invalidation,
    private readonly options: TaggedCacheOptions,
  ) {
    this.#now = options.now ?? (() => performance.now());
    invalidation.subscribe((tags) => {
      if (tags === 'everything') {
        this.#entries.clear();
        return;
      }
      // Invalidations are rare (a revocation, a plan change) and the cache small: a scan is enough.
      for (const [key, entry] of this.#entries) {
        if (entry.tags.some((tag) => tags.includes(tag))) this.#entries.delete(key);
      }
    });
  }

  /** The invalidation count to pass to `set` for a value about to be read. */
  get generation(): number {
    return this.invalidation.generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    if (!this.invalidation.usable()) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.storedAt > this.options.maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` unless an invalidation happened since `generation` was read, or caches cannot be used now. */
  set(key: string, value: V, tags: readonly string[], generation: number): void {
    if (generation !== this.invalidation.generation || !this.invalidation.usable() || generation !== this.invalidation.generation) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, tags, storedAt: this.#now() });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
