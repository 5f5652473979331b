// GET /health: probes each dependency with the dependency deadline and reports each one.
// 200 `ok`; 200 `degraded` when only Redis fails (the instance serves, with per-instance
// rate limits and its caches off); 503 `unavailable` when the database fails or the
// instance is shutting down. A dependency already known to be down is reported at once.
import type { Handlers } from '../http/handler.ts';

export interface HealthProbe {
  database: () => Promise<void>;
  /** null when this instance runs without Redis. */
  redis: (() => Promise<void>) | null;
  /** The longest a probe may take (the dependency deadline). */
  timeoutMs: number;
  shuttingDown(): boolean;
  startedAt: number;
  version: string;
}

async function check(
  probe: () => Promise<void>,
  timeoutMs: number,
): Promise<{ status: 'ok' | 'error'; latency_ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const running = probe();
  running.catch(() => undefined);
  try {
    await Promise.race([
      running,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
    ]);
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
      const [database, redis] = await Promise.all([
        check(health.database, health.timeoutMs),
        health.redis ? check(health.redis, health.timeoutMs) : Promise.resolve(null),
      ]);
      const shuttingDown = health.shuttingDown();
      const status =
        database.status === 'error' || shuttingDown ? 'unavailable' : redis?.status === 'error' ? 'degraded' : 'ok';
      const body = {
        status,
        shutting_down: shuttingDown,
        version: health.version,
        uptime_seconds: Math.max(0, Math.floor((now() - health.startedAt) / 1000)),
        checks: { database, redis },
      } as const;
      const headers = { 'Cache-Control': 'no-store' };
      return status === 'unavailable' ? { status: 503, body, headers } : { status: 200, body, headers };
    },
  };
}
