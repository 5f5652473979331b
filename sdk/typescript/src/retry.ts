// When to retry and how long to wait first. The server says how long when it
// knows (429: `Retry-After`, exact to the second; `X-RateLimit-Reset`); otherwise
// the wait grows exponentially with random jitter, so that many clients failing
// together do not come back together.

export interface RetryOptions {
  /** Attempts in all, the first included; 1 turns retries off. Default 3. */
  maxAttempts?: number;
  /** First backoff step when the server gives no delay. Default 500 ms. */
  baseDelayMs?: number;
  /** The longest backoff, 60 s by default. */
  maxDelayMs?: number;
  /**
   * The longest server-given delay (`Retry-After`, `X-RateLimit-Reset`) the client waits
   * for, 2 minutes by default: enough for any per-minute limit (a sliding window can
   * ask for 61 s). A longer one is not waited for: the 429 or 503 is returned at once
   * and the caller decides (an hourly limit can ask for most of an hour).
   */
  maxRetryAfterMs?: number;
  /** Statuses that are retried. Default 429 and 503. */
  statuses?: readonly number[];
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 120_000,
  statuses: [429, 503],
};

export function resolveRetryOptions(options: RetryOptions | false | undefined): ResolvedRetryOptions {
  if (options === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  const resolved = { ...DEFAULT_RETRY, ...options };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) {
    throw new TypeError(`retry.maxAttempts must be a whole number of at least 1, got ${String(resolved.maxAttempts)}`);
  }
  return resolved;
}

/** Milliseconds the server asks to wait (`Retry-After`, else a spent limit's `X-RateLimit-Reset`), or null. */
export function serverDelayMs(response: Response, now: number): number | null {
  const retryAfter = response.headers.get('Retry-After');
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter); // the HTTP-date form
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = Number(response.headers.get('X-RateLimit-Reset'));
  if (response.status === 429 && response.headers.has('X-RateLimit-Reset') && Number.isFinite(reset)) {
    return Math.max(0, reset * 1000 - now);
  }
  return null;
}

/** Exponential backoff before attempt `attempt + 1`: between half and all of base·2^(attempt-1), capped. */
export function backoffDelayMs(attempt: number, options: ResolvedRetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** How long to wait before retrying after `response` (attempt `attempt` failed), or null not to retry. */
export function retryDelayMs(
  response: Response,
  attempt: number,
  options: ResolvedRetryOptions,
  clock: { now: () => number; random: () => number },
): number | null {
  if (attempt >= options.maxAttempts || !options.statuses.includes(response.status)) return null;
  const told = serverDelayMs(response, clock.now());
  if (told !== null) return told <= options.maxRetryAfterMs ? told : null;
  return backoffDelayMs(attempt, options, clock.random);
}
