// A bounded in-memory cache whose entries carry tags (`api-key:key_...`,
// `account:acct_...`) and disappear when an invalidation names one of them (see
// invalidation.ts). Values are state read from the database, never decisions: what
// depends on time (an expiry, a grace period) is checked by the caller on every use.
//
// The race it closes: a request reads a key from the database, a revocation commits
// and invalidates, then the request stores what it read. So a caller takes
// `generation` before it reads, and `set` keeps the value only if no invalidation
// happened since.
//
// The entries themselves are an LRU cache (lru-cache): bounded in number, the least
// recently used going first, each one served for `maxAgeMs` at most. The tag index is
// kept to what it holds: an entry leaving it for any reason (evicted, expired, replaced,
// deleted) leaves the index too.
import { LRUCache } from 'lru-cache';
import type { Invalidation } from './invalidation.ts';

export interface TaggedCacheOptions {
  /** Entries kept at most; the least recently used goes first. */
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
}

export class TaggedCache<V> {
  readonly #entries: LRUCache<string, Entry<V>>;
  /**
   * The keys of the entries carrying each tag. Some invalidations are frequent (every
   * workflow created invalidates its tenant's list pages): each drops what it names without
   * looking at the other entries.
   */
  readonly #tagged = new Map<string, Set<string>>();

  constructor(
    private readonly invalidation: Invalidation,
    options: TaggedCacheOptions,
  ) {
    this.#entries = new LRUCache<string, Entry<V>>({
      max: options.maxEntries,
      ttl: options.maxAgeMs,
      // Ages read from the clock on every check: no timers, no rounding.
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
      dispose: (entry, key) => this.#unindex(key, entry.tags),
    });
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
    return this.#entries.get(key)?.value;
  }

  /** Keeps `value` unless an invalidation happened since `generation` was read, or caches cannot be used now. */
  set(key: string, value: V, tags: readonly string[], generation: number): void {
    // Checked again after usable(): reading another process's commit there moves the generation.
    if (
      generation !== this.invalidation.generation ||
      !this.invalidation.usable() ||
      generation !== this.invalidation.generation
    )
      return;
    // Replacing an entry disposes of the previous one (and its tags) first.
    this.#entries.set(key, { value, tags });
    for (const tag of tags) {
      let keys = this.#tagged.get(tag);
      if (keys === undefined) this.#tagged.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    // The index first: the entries' disposal then has nothing left to unindex.
    this.#tagged.clear();
    this.#entries.clear();
  }

  #unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.#tagged.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.#tagged.delete(tag);
    }
  }
}
