// The steps of a shutdown, each run on its own: one that fails is logged and the
// others still run (a database that cannot take the last writes must not keep Redis
// open). What has not finished can be named at any moment, for the line logged when
// the shutdown's deadline passes (src/main.ts).
import type { Logger } from 'pino';
import { DependencyUnavailableError } from './errors.ts';

export class ShutdownSteps {
  readonly #pending = new Set<string>();
  readonly #failed: string[] = [];

  constructor(private readonly logger: Logger) {}

  /** Runs `work` as the step `name`; resolves false (having logged why) when it failed. */
  async run(name: string, work: () => Promise<void> | void): Promise<boolean> {
    this.#pending.add(name);
    try {
      await work();
      return true;
    } catch (error) {
      this.#failed.push(name);
      // A dependency that is down is the reason, not a fault of the step: said in one line, without a stack.
      const reason =
        error instanceof DependencyUnavailableError
          ? { dependency: error.dependency, reason: error.message }
          : { err: error };
      this.logger.error({ ...reason, step: name }, `shutdown: ${name} failed`);
      return false;
    } finally {
      this.#pending.delete(name);
    }
  }

  /** Runs the steps side by side; resolves when each has finished or failed. */
  async all(steps: Record<string, () => Promise<void> | void>): Promise<void> {
    await Promise.all(Object.entries(steps).map(([name, work]) => this.run(name, work)));
  }

  /** The steps still under way. */
  pending(): string[] {
    return [...this.#pending];
  }

  /** The steps that failed. */
  failed(): string[] {
    return [...this.#failed];
  }
}
