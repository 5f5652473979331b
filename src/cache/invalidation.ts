// When cached state may have changed. Caches of what authentication reads on every
// request (verified API keys, token families, revocation answers, account plans)
// are only as correct as their invalidation, so there is exactly one mechanism,
// chosen by the deployment:
//
// - one instance on SQLite (`localInvalidation`): the services that change a key,
//   a family or a plan invalidate what they changed, in-process, before they answer.
//   Another process writing the same file (`npm run admin` beside the server) is
//   seen through SQLite's `PRAGMA data_version`, which changes when another
//   connection commits: every cache is then emptied before its next read.
// - several instances sharing Redis (`redisInvalidation`): the same invalidations
//   are published on a Redis channel, and every instance drops what they name when
//   the message arrives. The instance that changed something publishes (and waits
//   for Redis to take the message) before it answers. While an instance is not
//   subscribed (starting, or its subscriber connection lost), or Redis is known to be
//   down or frozen (src/dependencies/), its caches are not used at all, and it empties
//   them when Redis is back (it may have missed messages). A change made while Redis
//   does not answer is committed all the same: the other instances cannot hear of it,
//   but they do not use their caches either once they find Redis down (at once when
//   its connection drops; within a heartbeat and a deadline when it froze).
// - PostgreSQL without Redis (`noCaching`): nothing tells one instance about
//   another's writes, so nothing is cached.
//
// A value loaded from the database while any invalidation happened is not cached
// (see TaggedCache), so a read racing a revocation can never store the old state.
import type { Redis } from 'ioredis';
import type { Dependency } from '../dependencies/dependency.ts';
import { DependencyUnavailableError } from '../errors.ts';

export type InvalidationListener = (tags: readonly string[] | 'everything') => void;

export interface Invalidation {
  /** Increases with every invalidation seen: a value loaded while it changed must not be cached. */
  readonly generation: number;
  /**
   * Whether cached values may be used now. Checks for changes made by other processes
   * first (so it is called on every cache read); false means: read the database.
   */
  usable(): boolean;
  /** Drops what is tagged with any of `tags` here and, when several instances serve, everywhere. */
  invalidate(tags: readonly string[]): Promise<void>;
  subscribe(listener: InvalidationListener): void;
  close(): Promise<void>;
}

abstract class BaseInvalidation implements Invalidation {
  #generation = 0;
  readonly #listeners: InvalidationListener[] = [];

  get generation(): number {
    return this.#generation;
  }

  abstract usable(): boolean;
  abstract invalidate(tags: readonly string[]): Promise<void>;

  subscribe(listener: InvalidationListener): void {
    this.#listeners.push(listener);
  }

  protected notify(tags: readonly string[] | 'everything'): void {
    this.#generation += 1;
    for (const listener of this.#listeners) listener(tags);
  }

  async close(): Promise<void> {}
}

/** One process serves: invalidations are in-process; `externalVersion` changes when another process writes. */
class LocalInvalidation extends BaseInvalidation {
  #seenVersion: number | null = null;

  constructor(private readonly externalVersion: (() => number) | null) {
    super();
  }

  usable(): boolean {
    if (this.externalVersion) {
      const version = this.externalVersion();
      if (this.#seenVersion !== null && version !== this.#seenVersion) this.notify('everything');
      this.#seenVersion = version;
    }
    return true;
  }

  invalidate(tags: readonly string[]): Promise<void> {
    this.notify(tags);
    return Promise.resolve();
  }
}

export function localInvalidation(externalVersion: (() => number) | null = null): Invalidation {
  return new LocalInvalidation(externalVersion);
}

/** Several instances: invalidations go through a Redis channel that every instance listens to. */
class RedisInvalidation extends BaseInvalidation {
  readonly #channel: string;
  readonly #subscriber: Redis | null;
  readonly #dependency: Dependency | null;
  #subscribed = false;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    options: RedisInvalidationOptions,
  ) {
    super();
    this.#channel = `${prefix}invalidate`;
    this.#dependency = options.dependency ?? null;
    // Down: nothing cached may be used (usable() says so). Back: what was cached before may have missed messages.
    this.#dependency?.onChange(() => this.notify('everything'));
    this.#subscriber = options.listen ? redis.duplicate({ enableOfflineQueue: true }) : null;
    if (!this.#subscriber) return;
    const subscriber = this.#subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      try {
        const tags = JSON.parse(message) as unknown;
        this.notify(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string') ? tags : 'everything');
      } catch {
        this.notify('everything');
      }
    });
    // Messages published while the subscription was down are lost: start from nothing.
    const lost = () => {
      this.#subscribed = false;
      this.notify('everything');
    };
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      subscriber.subscribe(this.#channel).then(
        () => {
          this.notify('everything');
          this.#subscribed = true;
        },
        () => lost(),
      );
    });
  }

  usable(): boolean {
    return this.#subscribed && (this.#dependency?.available ?? true);
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    this.notify(tags);
    const message = JSON.stringify(tags);
    if (!this.#dependency) {
      await this.redis.publish(this.#channel, message);
      return;
    }
    try {
      await this.#dependency.call(() => this.redis.publish(this.#channel, message));
    } catch (error) {
      // The change has committed; while Redis is down no instance uses its caches (see above).
      if (!(error instanceof DependencyUnavailableError)) throw error;
    }
  }

  override close(): Promise<void> {
    this.#subscribed = false;
    // A subscriber has nothing to finish: disconnect() does not wait for a Redis that may not answer.
    if (this.#subscriber && this.#subscriber.status !== 'end') this.#subscriber.disconnect();
    return Promise.resolve();
  }
}

export interface RedisInvalidationOptions {
  /**
   * `false` for a process that only changes things (`npm run admin`): it publishes its
   * invalidations for the servers and caches nothing itself.
   */
  listen: boolean;
  /** The server's watch on Redis: its caches are off while Redis is down, and a publish is bounded by its deadline. */
  dependency?: Dependency;
}

export function redisInvalidation(
  redis: Redis,
  prefix: string,
  options: RedisInvalidationOptions = { listen: true },
): Invalidation {
  return new RedisInvalidation(redis, prefix, options);
}

/** Nothing can tell this instance about other instances' writes: caches are never used. */
class NoCaching extends BaseInvalidation {
  usable(): boolean {
    return false;
  }

  invalidate(tags: readonly string[]): Promise<void> {
    this.notify(tags);
    return Promise.resolve();
  }
}

export function noCaching(): Invalidation {
  return new NoCaching();
}
