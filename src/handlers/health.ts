// GET /health: probes each dependency with a deadline and reports each one.
// 503 while a dependency fails or the instance is shutting down.
import type { Handlers } from '../http/handler.ts';

export interface HealthProbe {
  database(): Promise<void>;
  /** null when this instance runs without Redis. */
  redis: (() => Promise<void>) | null;
  shuttingDown(): boolean;
  startedAt: number;
  version: string;
}

const PROBE_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<void>): Promise<{ status: 'ok' | 'error'; latency_ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS)))]);
    return { status: 'ok', latency_ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch {
    return { status: 'error', latency_ms: Math.round((performance.now() - started) * 10) / 10 };
  } finally {
    clearTimeout(timer);
  }
}

export function healthHandlers(health: HealthProbe, now: () => number): Pick<Handlers, 'getHealth'> {
  return {
    async getHealth() {
      const [database, redis] = await Promise.all([check(health.database), health.redis ? check(health.redis) : Promise.resolve(null)]);
      const healthy = database.status === 'ok' && (redis === null || redis.status === 'ok') && !health.shuttingDown();
      const body = {
        status: healthy ? ('ok' as const) : ('unavailable' as const),
        version: health.version,
        uptime_seconds: Math.max(0, Math.floor((now() - health.startedAt) / 1000)),
        checks: { database, redis },
      };
      return healthy ? { status: 200, body, headers: { 'Cache-Control': 'no-store' } } : { status: 503, body, headers: { 'Cache-Control': 'no-store' } };
    },
  };
}
