// The Redis connection of a server (REDIS_URL), with bounds on everything: a command
// gets an answer within the deadline or fails; nothing is queued while the connection
// is down (a request must not wait for a reconnection); a command in flight when the
// connection drops fails instead of being sent again (a rate-limit count must not be
// counted twice); reconnection is retried forever, at most a second apart, so the
// server goes back to Redis by itself when Redis returns. The Dependency watches its
// health, with a heartbeat, so that a Redis that froze is noticed even without traffic.
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { Dependency } from './dependency.ts';
import { redisUnavailable } from './unavailable.ts';

export interface RedisConnection {
  redis: Redis;
  dependency: Dependency;
  close(): Promise<void>;
}

/** Reconnection delays: 50 ms, doubling, never more than 1 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 1_000);
}

export function redisOptions(timeoutMs: number): RedisOptions {
  return {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelayMs,
  };
}

export async function connectRedis(
  url: string,
  options: { timeoutMs: number; logger: Logger },
): Promise<RedisConnection> {
  // ioredis is loaded only when it is used: it is a large module to load at every start.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, redisOptions(options.timeoutMs));
  const dependency = new Dependency({
    name: 'redis',
    timeoutMs: options.timeoutMs,
    logger: options.logger,
    isUnavailable: redisUnavailable,
    probe: async () => void (await redis.ping()),
    heartbeatMs: 1_000,
  });
  // Errors are also reported on the client: the Dependency logs the outage once; without a
  // listener ioredis would print every reconnection failure.
  redis.on('error', () => undefined);
  // A lost connection is known at once, before a request waits on it.
  let closing = false;
  redis.on('close', () => {
    if (!closing) dependency.markDown(new Error('Connection is closed.'));
  });
  // Not waited for beyond the deadline: a server starts without Redis, degraded, and takes it up when it answers.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    redis.once('ready', done);
  });
  if (redis.status !== 'ready') dependency.markDown(new Error('Connection is closed.'));
  return {
    redis,
    dependency,
    async close() {
      closing = true;
      dependency.close();
      // QUIT waits for an answer a frozen Redis never sends; disconnect() does not wait.
      await Promise.race([
        redis.quit().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, options.timeoutMs).unref()),
      ]);
      redis.disconnect();
    },
  };
}
