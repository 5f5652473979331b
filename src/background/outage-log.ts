// One line when a background task starts failing because a dependency is unavailable,
// one when it works again: never a line per attempt, however often it retries.
import type { Logger } from 'pino';
import { DependencyUnavailableError } from '../errors.ts';

export class OutageLog {
  #failing = false;

  constructor(
    private readonly logger: Logger,
    /** What is affected, as the subject of the log lines ("run execution"). */
    private readonly what: string,
  ) {}

  /** A failure: the first of a streak is logged (a dependency's as a warning, anything else as an error). */
  failed(error: unknown, fields: Record<string, unknown> = {}): void {
    if (this.#failing) return;
    this.#failing = true;
    if (error instanceof DependencyUnavailableError) {
      this.logger.warn(
        { ...fields, dependency: error.dependency },
        `${this.what} paused: ${error.dependency} unavailable; retried until it answers`,
      );
    } else {
      this.logger.error({ ...fields, err: error }, `${this.what} failed; retried`);
    }
  }

  succeeded(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.logger.info(`${this.what} resumed`);
  }
}
