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
  /**
   * The keys of the entries carrying each tag. Some invalidations are frequent (every
   * workflow created invalidates its tenant's list pages): each drops what it names without
   * looking at the other entries.
   */
  readonly #tagged = new Map<string, Set<string>>();
  readonly #now: () => number;

  constructor(
    private readonly invalidation: Invalidation,
    private readonly options: TaggedCacheOptions,
  ) {
    this.#now = options.now ?? (() => performance.now());
    invalidation.subscribe((tags) => {
      if (tags === 'everything') {
        this.clear();
        return;
      }
      for (const tag of tags) {
        const keys = this.#tagged.get(tag);
        if (keys === undefined) continue;
        for (const key of [...keys]) this.delete(key);
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

  /** How many tags index entries (tests: the index never outgrows the entries). */
  get tagCount(): number {
    return this.#tagged.size;
  }

  get(key: string): V | undefined {
    if (!this.invalidation.usable()) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.storedAt > this.options.maxAgeMs) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` unless an invalidation happened since `generation` was read, or caches cannot be used now. */
  set(key: string, value: V, tags: readonly string[], generation: number): void {
    // Checked again after usable(): reading another process's commit there moves the generation.
    if (generation !== this.invalidation.generation || !this.invalidation.usable() || generation !== this.invalidation.generation) return;
    this.delete(key);
    if (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    this.#entries.set(key, { value, tags, storedAt: this.#now() });
    for (const tag of tags) {
      let keys = this.#tagged.get(tag);
      if (keys === undefined) this.#tagged.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.#tagged.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.#tagged.delete(tag);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#tagged.clear();
  }
}
