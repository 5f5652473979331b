// `last_used_at` / `last_used_ip` without a database write per request: uses are
// kept in memory and written in one batch every few seconds (and on shutdown).
// Reads merge the pending values, so the API shows a use at once. The contract
// promises the time "to the minute", which is what a batch interval of seconds keeps.
// While the database is down the uses stay pending (one per key, the latest) and are
// written once it is back (src/background/background-writer.ts).
import pino, { type Logger } from 'pino';
import { BackgroundWriter } from '../background/background-writer.ts';
import type { ApiKeyRepository } from '../db/repositories/api-keys.ts';
import { iso } from '../domain/time.ts';

interface Use {
  at: number;
  ip: string;
}

export class LastUsedRecorder {
  readonly #pending = new Map<string, Use>();
  readonly #writer: BackgroundWriter;

  constructor(
    private readonly keys: ApiKeyRepository,
    options: { flushEveryMs?: number; logger?: Logger } = {},
  ) {
    this.#writer = new BackgroundWriter({
      name: 'last-used times of API keys',
      logger: options.logger ?? pino({ level: 'silent' }),
      write: () => this.#write(),
      pending: () => this.#pending.size,
      everyMs: options.flushEveryMs ?? 5_000,
    });
  }

  touch(keyId: string, ip: string, at: number): void {
    this.#pending.set(keyId, { at, ip });
    this.#writer.schedule();
  }

  pending(keyId: string): Use | undefined {
    return this.#pending.get(keyId);
  }

  /** Writes every pending use now; rejects when the database cannot take them (they stay pending). */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** No more background writes (at shutdown, before the last flush). */
  stop(): void {
    this.#writer.stop();
  }

  async #write(): Promise<void> {
    for (const [keyId, use] of [...this.#pending.entries()]) {
      await this.keys.recordUse(keyId, iso(use.at), use.ip);
      // A newer use that came in meanwhile stays pending.
      if (this.#pending.get(keyId) === use) this.#pending.delete(keyId);
    }
  }
}
