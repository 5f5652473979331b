// The counters of several instances live in Redis; while Redis does not answer, each
// instance counts in its own memory instead of refusing or holding requests. The limits
// then hold per instance (with N instances a client may get up to N times a limit), which
// is said once in the log when it starts and once when it ends. When Redis answers
// again, the shared counters are used again: what was counted in memory meanwhile is not
// carried over, and is dropped as its windows expire.
import type { Logger } from 'pino';
import type { Dependency } from '../dependencies/dependency.ts';
import { DependencyUnavailableError } from '../errors.ts';
import type { CounterSpec } from './sliding-window.ts';
import type { ConsumeResult, RateLimitStore, StoreReading } from './store.ts';

export class FailoverRateLimitStore implements RateLimitStore {
  constructor(
    private readonly shared: RateLimitStore,
    private readonly local: RateLimitStore,
    private readonly redis: Dependency,
    logger: Logger,
  ) {
    const say = (available: boolean) => {
      if (available) logger.info('rate limits: shared counters in Redis again');
      else
        logger.warn(
          "rate limits: Redis unavailable, counting in this instance's memory (limits hold per instance until Redis answers)",
        );
    };
    // Down already at start (a server starts without Redis): said at once.
    if (!redis.available) say(false);
    redis.onChange(say);
  }

  consume(specs: readonly CounterSpec[], nowMs: number): Promise<ConsumeResult> {
    return this.#either((store) => store.consume(specs, nowMs));
  }

  peek(specs: readonly CounterSpec[], nowMs: number): Promise<StoreReading> {
    return this.#either((store) => store.peek(specs, nowMs));
  }

  release(specs: readonly CounterSpec[], consumedAtMs: number, nowMs: number): Promise<void> {
    return this.#either((store) => store.release(specs, consumedAtMs, nowMs));
  }

  async #either<T>(operation: (store: RateLimitStore) => Promise<T>): Promise<T> {
    if (this.redis.available) {
      try {
        return await this.redis.call(() => operation(this.shared));
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError)) throw error;
      }
    }
    return operation(this.local);
  }
}
