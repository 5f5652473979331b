// Rate-limited refusals in the audit log, aggregated: one `rate_limit.exceeded`
// entry per principal, policy and minute, written at the first refusal (so it is
// visible at once) with the final `count` filled in when the minute is over. A
// flood of refused requests therefore costs two writes a minute, not one each.
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../domain/time.ts';
import type { RequestContext } from './request-context.ts';
import { principalId } from '../auth/principal.ts';

interface Tally {
  minute: number;
  count: number;
  requestId: string;
}

export class RateLimitAudit {
  readonly #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly audit: AuditLog,
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  rejected(context: RequestContext, policy: string): void {
    if (!context.principal) return;
    const minute = Math.floor(this.clock() / 60_000);
    const key = `${principalId(context.principal)}|${policy}|${minute}`;
    const tally = this.#tallies.get(key);
    if (tally) {
      tally.count += 1;
      return;
    }
    this.#tallies.set(key, { minute, count: 1, requestId: context.requestId });
    void this.audit
      .record(context, { action: 'rate_limit.exceeded', outcome: 'denied', metadata: { policy, count: 1, minute_start: new Date(minute * 60_000).toISOString() } })
      .catch(() => undefined);
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.flush(false), 10_000);
      this.#timer.unref();
    }
  }

  /** Writes the counts of finished minutes (all of them with `everything`, at shutdown). */
  async flush(everything: boolean): Promise<void> {
    const current = Math.floor(this.clock() / 60_000);
    for (const [key, tally] of this.#tallies) {
      if (!everything && tally.minute >= current) continue;
      this.#tallies.delete(key);
      if (tally.count === 1) continue;
      const [, policy] = key.split('|');
      await this.db
        .updateTable('audit_logs')
        .set({ metadata: JSON.stringify({ policy, count: tally.count, minute_start: new Date(tally.minute * 60_000).toISOString() }) })
        .where('request_id', '=', tally.requestId)
        .where('action', '=', 'rate_limit.exceeded')
        .execute();
    }
    if (this.#tallies.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
