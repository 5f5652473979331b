// The `fetch` the openapi-fetch client is built on. Retries live here, not in a
// middleware: openapi-fetch's middleware cannot send a request again (its body is
// consumed), so the transport reads the body once and builds each attempt anew.
//
// Per call: an `Idempotency-Key` (one for all attempts) on operations that declare
// it; per attempt: the credential, renewed once if the server says the token
// expired; then a retry on 429/503 after the delay the server gives, or backoff.
// A 429 is always safe to retry: a refused request did nothing. A 503 or a network
// failure is retried only when repeating cannot do a thing twice: GET, HEAD, PUT,
// DELETE and OPTIONS, or a POST that carries an Idempotency-Key.
import type { CredentialSource } from './credentials.js';
import { acceptsIdempotencyKey } from './idempotency.js';
import { backoffDelayMs, retryDelayMs, type ResolvedRetryOptions } from './retry.js';

export type Fetch = (request: Request) => Promise<Response>;
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface TransportOptions {
  fetch: Fetch;
  credentials: CredentialSource;
  retry: ResolvedRetryOptions;
  /** Add an Idempotency-Key to operations that declare it (when retries are on). */
  idempotencyKeys: boolean;
  /** The path of the base URL, stripped before matching operations. */
  basePath: string;
  sleep: Sleep;
  now: () => number;
  random: () => number;
  newIdempotencyKey: () => string;
}

const REPEATABLE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export function createTransport(options: TransportOptions): Fetch {
  const { retry, credentials } = options;
  return async (request) => {
    const body = request.body === null ? null : await request.arrayBuffer();
    const headers = new Headers(request.headers);
    if (
      options.idempotencyKeys &&
      retry.maxAttempts > 1 &&
      !headers.has('Idempotency-Key') &&
      acceptsIdempotencyKey(request, options.basePath)
    ) {
      headers.set('Idempotency-Key', options.newIdempotencyKey());
    }
    const repeatable = REPEATABLE_METHODS.has(request.method) || headers.has('Idempotency-Key');
    let renewed = false;

    for (let attempt = 1; ;) {
      const attemptHeaders = new Headers(headers);
      const sent = await credentials.apply(attemptHeaders);
      let response: Response;
      try {
        response = await options.fetch(new Request(request, { headers: attemptHeaders, body }));
      } catch (error) {
        if (request.signal.aborted || !repeatable || attempt >= retry.maxAttempts) throw error;
        await options.sleep(backoffDelayMs(attempt, retry, options.random), request.signal);
        attempt += 1;
        continue;
      }

      if (response.status === 401 && sent !== null && !renewed && (await credentials.rejected(sent, response))) {
        // Not counted as an attempt: the token was renewed, once, and the request goes again.
        renewed = true;
        await response.body?.cancel();
        continue;
      }

      const delay = response.status === 429 || repeatable ? retryDelayMs(response, attempt, retry, options) : null;
      if (delay === null) return response;
      await response.body?.cancel();
      await options.sleep(delay, request.signal);
      attempt += 1;
    }
  };
}

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, whatever the caller gave (as fetch does)
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with the signal's own reason, as above
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
