// Failover stores for the store contract: a FailoverRateLimitStore whose shared store
// is up (every call goes to the shared counters) or down (every call goes to this
// instance's memory), with a Dependency whose probe the test decides.
import { Dependency } from '../../src/dependencies/dependency.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { FailoverRateLimitStore } from '../../src/rate-limit/failover-store.ts';
import { InMemoryRateLimitStore, type RateLimitStore } from '../../src/rate-limit/index.ts';
import type { StoreUnderTest } from './store-contract.ts';

/** A Redis dependency that answers its probe while `up()` says so. */
export function switchableDependency(up: () => boolean): Dependency {
  return new Dependency({
    name: 'redis',
    timeoutMs: 1_000,
    logger: createLogger({ level: 'silent' }),
    isUnavailable: () => true,
    probe: () => (up() ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED'))),
    probeEveryMs: 20,
  });
}

/** Over a shared in-memory store (two instances: one shared store, a local store each). */
export function failoverOverMemory(state: 'up' | 'down'): StoreUnderTest {
  const shared = new InMemoryRateLimitStore();
  const dependency = switchableDependency(() => state === 'up');
  if (state === 'down') dependency.markDown(new Error('connect ECONNREFUSED'));
  const logger = createLogger({ level: 'silent' });
  const locals = [new InMemoryRateLimitStore(), new InMemoryRateLimitStore()] as const;
  // Down, the two instances do not share counters: both handles are then one instance.
  const instances = locals.map((local) => new FailoverRateLimitStore(shared, local, dependency, logger));
  const handles: readonly [RateLimitStore, RateLimitStore] =
    state === 'up' ? [instances[0]!, instances[1]!] : [instances[0]!, instances[0]!];
  return {
    handles,
    counterCount: () => (state === 'up' ? shared.size : locals[0].size),
    close: () => dependency.close(),
  };
}
