// Rate-limited refusals in the audit log, aggregated: one `rate_limit.exceeded`
// entry per principal, policy and minute, written at the first refusal (so it is
// visible at once) with the final `count` filled in when the minute is over. A
// flood of refused requests therefore costs two writes a minute, not one each.
//
// The writes happen in the background (src/background/background-writer.ts): while
// the database is down, the tallies stay in memory (at most MAX_TALLIES of them; a
// refusal beyond that is counted in the log line that says so) and are written once it
// is back, each entry with the count it reached.
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import { BackgroundWriter } from '../background/background-writer.ts';
import type { Clock } from '../domain/time.ts';
import { DependencyUnavailableError } from '../errors.ts';
import type { RequestContext } from './request-context.ts';
import { principalId } from '../auth/principal.ts';

interface Tally {
  minute: number;
  policy: string;
  count: number;
  /** The count the entry holds in the database; 0 until it is written. */
  written: number;
  /** Who, from where: what the entry records (a copy, not the request's context). */
  context: RequestContext;
  /** Failures of its own (not the database's): an entry that keeps failing is given up. */
  failures: number;
}

const MAX_TALLIES = 10_000;
const GIVE_UP_AFTER = 5;

export class RateLimitAudit {
  readonly #tallies = new Map<string, Tally>();
  readonly #writer: BackgroundWriter;
  #dropped = 0;

  constructor(
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.#writer = new BackgroundWriter({
      name: 'rate-limit audit entries',
      logger,
      write: () => this.#write(false),
      pending: () => this.#tallies.size,
      everyMs: 10_000,
    });
  }

  rejected(context: RequestContext, policy: string): void {
    if (!context.principal) return;
    const minute = Math.floor(this.clock() / 60_000);
    const key = `${principalId(context.principal)}|${policy}|${minute}`;
    const tally = this.#tallies.get(key);
    if (tally) {
      tally.count += 1;
      return;
    }
    if (this.#tallies.size >= MAX_TALLIES) {
      this.#dropped += 1;
      if (this.#dropped === 1)
        this.logger.warn(
          { held: MAX_TALLIES },
          'rate-limit audit entries: too many held in memory; further refusals are not audited until they are written',
        );
      return;
    }
    const { requestId, ip, userAgent, startedAt, operation, principal } = context;
    this.#tallies.set(key, {
      minute,
      policy,
      count: 1,
      written: 0,
      context: { requestId, ip, userAgent, startedAt, operation, principal, rateLimit: null },
      failures: 0,
    });
    this.#writer.schedule(0);
  }

  /** Writes what is held now (with `everything`, the counts of unfinished minutes too: at shutdown). */
  flush(everything: boolean): Promise<void> {
    return this.#writer.flush(() => this.#write(everything));
  }

  /** No more background passes (at shutdown, before the last flush). */
  stop(): void {
    this.#writer.stop();
  }

  async #write(everything: boolean): Promise<void> {
    const current = Math.floor(this.clock() / 60_000);
    for (const [key, tally] of this.#tallies) {
      const finished = everything || tally.minute < current;
      try {
        await this.#writeOne(tally);
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        tally.failures += 1;
        if (tally.failures < GIVE_UP_AFTER) throw error;
        this.logger.error(
          { err: error, policy: tally.policy, count: tally.count },
          'rate-limit audit entry given up after repeated failures',
        );
        this.#tallies.delete(key);
        continue;
      }
      if (finished && tally.written === tally.count) this.#tallies.delete(key);
    }
    if (this.#dropped > 0) {
      this.logger.warn(
        { refusals: this.#dropped },
        'rate-limit audit entries: refusals not audited while too many were held',
      );
      this.#dropped = 0;
    }
  }

  async #writeOne(tally: Tally): Promise<void> {
    const count = tally.count;
    const metadata = { policy: tally.policy, count, minute_start: new Date(tally.minute * 60_000).toISOString() };
    if (tally.written === 0) {
      await this.audit.record(tally.context, { action: 'rate_limit.exceeded', outcome: 'denied', metadata });
    } else if (tally.written !== count) {
      await this.audit.updateRateLimitCount(tally.context.requestId, metadata);
    }
    tally.written = count;
  }
}
