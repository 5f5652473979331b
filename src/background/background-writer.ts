// Writes that the server owes the database but no request waits for (last-used times,
// rate-limit audit entries): kept in memory, written by one pass at a time, in the
// background. A pass that fails (the database down) keeps what it could not write and
// is tried again with backoff, 0.5 s doubling to 5 s, so the writes land within seconds
// of the database's return, without a restart. A streak of failures is logged twice:
// when it starts and when it ends, never once per attempt.
import type { Logger } from 'pino';
import { DependencyUnavailableError } from '../errors.ts';

export interface BackgroundWriterOptions {
  /** Names the writer in log lines. */
  name: string;
  logger: Logger;
  /** Writes what is pending; rejects (keeping what it did not write) when it cannot. */
  write: () => Promise<void>;
  /** How many writes are pending (0: nothing to do). */
  pending: () => number;
  /** How long a write may wait, to be batched with the next ones. */
  everyMs: number;
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 5_000;

export class BackgroundWriter {
  readonly #options: BackgroundWriterOptions;
  #timer: NodeJS.Timeout | null = null;
  #dueAt = Infinity;
  #running: Promise<void> | null = null;
  /** The soonest write asked for while a pass was running: scheduled when it ends. */
  #requestedMs: number | null = null;
  #failures = 0;
  #stopped = false;

  constructor(options: BackgroundWriterOptions) {
    this.#options = options;
  }

  /** Writes within `delayMs` (the batching delay by default), or when the current backoff ends. */
  schedule(delayMs: number = this.#options.everyMs): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#requestedMs = Math.min(this.#requestedMs ?? Infinity, delayMs);
      return;
    }
    const delay = this.#failures > 0 ? Math.max(delayMs, backoffMs(this.#failures)) : delayMs;
    const dueAt = Date.now() + delay;
    if (this.#timer && this.#dueAt <= dueAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#dueAt = dueAt;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dueAt = Infinity;
      // Its failure is handled (logged, retried) inside the pass.
      this.#pass().catch(() => undefined);
    }, delay);
    this.#timer.unref();
  }

  /**
   * Writes what is pending now, after a pass under way, with `write` instead of the usual
   * pass when given; rejects when it cannot (at shutdown: what is lost).
   */
  async flush(write: () => Promise<void> = this.#options.write): Promise<void> {
    while (this.#running) await this.#running.catch(() => undefined);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dueAt = Infinity;
    if (this.#options.pending() === 0) return;
    await this.#pass(write);
  }

  /** No more passes of its own (flush still writes). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #pass(write: () => Promise<void> = this.#options.write): Promise<void> {
    const pass = (async () => {
      try {
        await write();
        if (this.#failures > 0) {
          this.#options.logger.info(
            { writer: this.#options.name, attempts: this.#failures + 1 },
            `${this.#options.name}: written again`,
          );
        }
        this.#failures = 0;
      } catch (error) {
        this.#failures += 1;
        if (this.#failures === 1) {
          const unavailable = error instanceof DependencyUnavailableError;
          this.#options.logger[unavailable ? 'warn' : 'error'](
            {
              writer: this.#options.name,
              pending: this.#options.pending(),
              ...(unavailable ? { dependency: error.dependency } : { err: error }),
            },
            `${this.#options.name}: cannot write now; kept in memory and retried until it can`,
          );
        }
        throw error;
      } finally {
        this.#running = null;
        const requested = this.#requestedMs;
        this.#requestedMs = null;
        if (this.#options.pending() > 0) this.schedule(requested ?? this.#options.everyMs);
      }
    })();
    this.#running = pass;
    return pass;
  }
}

function backoffMs(failures: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** (failures - 1), LONGEST_RETRY_MS);
}
