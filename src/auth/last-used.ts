// `last_used_at` / `last_used_ip` without a database write per request: uses are
// kept in memory and written in one batch every few seconds (and on shutdown).
// Reads merge the pending values, so the API shows a use at once. The contract
// promises the time "to the minute", which is what a batch interval of seconds keeps.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { iso } from '../domain/time.ts';

interface Use {
  at: number;
  ip: string;
}

export class LastUsedRecorder {
  readonly #pending = new Map<string, Use>();
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly flushEveryMs = 5_000,
  ) {}

  touch(keyId: string, ip: string, at: number): void {
    this.#pending.set(keyId, { at, ip });
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush().catch(() => undefined), this.flushEveryMs);
      this.#timer.unref();
    }
  }

  pending(keyId: string): Use | undefined {
    return this.#pending.get(keyId);
  }

  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [keyId, use] of batch) {
      await this.db.updateTable('api_keys').set({ last_used_at: iso(use.at), last_used_ip: use.ip }).where('id', '=', keyId).execute();
    }
  }
}
