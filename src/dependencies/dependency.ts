// One dependency the server talks to over the network (PostgreSQL, Redis), and what
// the server knows of its health. Every call to it goes through `call`, which gives it a
// deadline and turns its failure to answer into a DependencyUnavailableError (a 503 with
// Retry-After for a request; a retry later for background work).
//
// Once a call finds the dependency down (refused, reset, or no answer within the
// deadline), the dependency is known to be down: calls fail at once, without waiting for
// it or filling a queue, and a probe asks it every `probeEveryMs` whether it is back.
// When a probe succeeds, calls go through again; nothing needs a restart. A call that
// fails for another reason (a bad query, a constraint) says nothing of the dependency's
// health and is rethrown as it is. The outage is logged twice: when it starts and when
// it ends, never once per call or per probe.
import type { Logger } from 'pino';
import { DependencyUnavailableError, type DependencyName } from '../errors.ts';

export interface DependencyOptions {
  name: DependencyName;
  /** The deadline of each call and each probe. */
  timeoutMs: number;
  /** A trivial round trip (`select 1`, `PING`) that succeeds when the dependency answers. */
  probe: () => Promise<void>;
  /** Whether a failure means the dependency is unavailable, as opposed to a failure of the call itself. */
  isUnavailable: (error: unknown) => boolean;
  logger: Logger;
  /** How often a dependency known to be down is asked whether it is back (500 ms). */
  probeEveryMs?: number;
  /** Also probe while it is up, this often, so that a dependency that froze is noticed without traffic (off by default). */
  heartbeatMs?: number;
  clock?: () => number;
}

export type AvailabilityListener = (available: boolean) => void;

/** What `Retry-After` says while a dependency is down: the time a few probes take. */
export const RETRY_AFTER_SECONDS = 2;

export class Dependency {
  readonly name: DependencyName;
  readonly timeoutMs: number;
  readonly #options: DependencyOptions;
  readonly #probeEveryMs: number;
  readonly #clock: () => number;
  readonly #listeners: AvailabilityListener[] = [];
  #available = true;
  #downSince = 0;
  #refused = 0;
  #timer: NodeJS.Timeout | null = null;
  #probing = false;
  #closed = false;

  constructor(options: DependencyOptions) {
    this.name = options.name;
    this.timeoutMs = options.timeoutMs;
    this.#options = options;
    this.#probeEveryMs = options.probeEveryMs ?? 500;
    this.#clock = options.clock ?? Date.now;
    this.#schedule();
  }

  get available(): boolean {
    return this.#available;
  }

  /** Hears every change of availability (down, then up again). */
  onChange(listener: AvailabilityListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Runs `work` within the deadline. Fails at once while the dependency is known to be
   * down. When the deadline passes, the work is abandoned (it may still finish: `abandoned`
   * gets its late outcome, to hand back a connection it took) and the call fails.
   */
  async call<T>(work: () => Promise<T>, abandoned?: (late: Promise<T>) => void): Promise<T> {
    if (!this.#available) {
      this.#refused += 1;
      throw new DependencyUnavailableError(this.name, RETRY_AFTER_SECONDS, { reason: 'known to be down' });
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- work()'s synchronous throw, passed on as it was thrown
      running = Promise.reject(error);
    }
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(
          new DependencyUnavailableError(this.name, RETRY_AFTER_SECONDS, {
            reason: `no answer within ${this.timeoutMs} ms`,
          }),
        );
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([running, deadline]);
    } catch (error) {
      if (timedOut) {
        // Nobody waits for it any more: its failure must not become an unhandled rejection.
        running.catch(() => undefined);
        abandoned?.(running);
        this.markDown(error);
        throw error;
      }
      if (error instanceof DependencyUnavailableError) throw error;
      if (!this.#options.isUnavailable(error)) throw error;
      this.markDown(error);
      throw new DependencyUnavailableError(this.name, RETRY_AFTER_SECONDS, {
        cause: error,
        reason: 'connection failed',
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records that the dependency is down (a failed call, or its connection lost) and starts probing it. */
  markDown(cause: unknown): void {
    if (!this.#available || this.#closed) return;
    this.#available = false;
    this.#downSince = this.#clock();
    this.#refused = 0;
    this.#options.logger.warn(
      { dependency: this.name, reason: describe(cause) },
      `${this.name} unavailable: requests that need it are answered 503 at once until it answers again`,
    );
    this.#notify();
    // The first probe at once: a lone failure (one connection reset) must not cost more than a round trip.
    this.#schedule(0);
  }

  /** Probes now, within the deadline (for /health): resolves when the dependency answered. */
  async check(): Promise<void> {
    if (!this.#available)
      throw new DependencyUnavailableError(this.name, RETRY_AFTER_SECONDS, { reason: 'known to be down' });
    await this.call(() => this.#options.probe());
  }

  /** Stops probing (at shutdown). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(delayMs?: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const delay = delayMs ?? (this.#available ? this.#options.heartbeatMs : this.#probeEveryMs);
    if (delay === undefined) return;
    this.#timer = setTimeout(() => void this.#probe(), delay);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    this.#timer = null;
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    let answered = false;
    let failure: unknown = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = this.#options.probe();
      running.catch(() => undefined);
      await Promise.race([
        running,
        new Promise(
          (_, reject) =>
            (timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)),
        ),
      ]);
      answered = true;
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(timer);
      this.#probing = false;
    }
    if (this.#closed) return;
    if (answered && !this.#available) {
      this.#available = true;
      this.#options.logger.info(
        { dependency: this.name, down_ms: this.#clock() - this.#downSince, refused_calls: this.#refused },
        `${this.name} available again`,
      );
      this.#notify();
    } else if (!answered && this.#available) {
      this.markDown(failure);
      return;
    }
    this.#schedule();
  }

  #notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener(this.#available);
      } catch (error) {
        this.#options.logger.error({ err: error, dependency: this.name }, 'a listener of a dependency change failed');
      }
    }
  }
}

/** What a log line may say of a failure: its class and code, never its message (which may name a host or a user). */
function describe(error: unknown): string {
  if (error instanceof DependencyUnavailableError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string'
      ? `${error.name} ${code}`
      : error.name === 'Error'
        ? error.message.slice(0, 120)
        : error.name;
  }
  return typeof error;
}
