// The SDK's client: openapi-fetch typed by the contract (`GET`, `POST`... with
// paths, parameters, bodies and responses checked by the compiler), over a
// transport that authenticates, retries and adds idempotency keys, plus
// `pages`/`paginate` for the cursor-paginated lists.
import createClient, { type Client } from 'openapi-fetch';
import { credentialSource, type CredentialOptions } from './credentials.js';
import { pages, paginate, type Item, type ListOptions, type ListPath, type Page } from './pagination.js';
import { resolveRetryOptions, type RetryOptions } from './retry.js';
import { createTransport, realSleep, type Fetch, type Sleep } from './transport.js';
import type { paths } from './types.js';

export const DEFAULT_BASE_URL = 'https://api.aetherflow.com';

export interface AetherFlowClientOptions extends CredentialOptions {
  /** `https://api.aetherflow.com` by default; `http://127.0.0.1:3000` for `npm start`, `http://127.0.0.1:4010` for the mock. */
  baseUrl?: string;
  /** Retries on 429 and 503 (3 attempts in all by default); `false` for none. */
  retry?: RetryOptions | false;
  /** Send an `Idempotency-Key` on the operations that take one, so that a retried POST never runs twice. Default true. */
  idempotencyKeys?: boolean;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to send requests with; `globalThis.fetch` by default. */
  fetch?: Fetch;
  /** How to wait between attempts (tests pass one that does not really wait). */
  sleep?: Sleep;
  /** The clock, Unix milliseconds (token expiry, `Retry-After` dates, `X-RateLimit-Reset`). */
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

export type AetherFlowClient = Client<paths, 'application/json'> & {
  /** Every page of a list, first to last; throws an AetherFlowError on a failed request. */
  pages<P extends ListPath>(path: P, options?: ListOptions<P>): AsyncGenerator<Page<P>, void, undefined>;
  /** Every item of a list, following `next_cursor`; throws an AetherFlowError on a failed request. */
  paginate<P extends ListPath>(path: P, options?: ListOptions<P>): AsyncGenerator<Item<P>, void, undefined>;
};

export function createAetherFlowClient(options: AetherFlowClientOptions = {}): AetherFlowClient {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const underlying: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const transport = createTransport({
    fetch: underlying,
    credentials: credentialSource(options, now),
    retry: resolveRetryOptions(options.retry),
    idempotencyKeys: options.idempotencyKeys ?? true,
    basePath: new URL(baseUrl).pathname,
    sleep: options.sleep ?? realSleep,
    now,
    random: options.random ?? Math.random,
    newIdempotencyKey: () => globalThis.crypto.randomUUID(),
  });
  const client = createClient<paths, 'application/json'>({
    baseUrl,
    fetch: transport,
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return Object.assign(client, {
    pages: <P extends ListPath>(path: P, listOptions?: ListOptions<P>) => pages(client, path, listOptions),
    paginate: <P extends ListPath>(path: P, listOptions?: ListOptions<P>) => paginate(client, path, listOptions),
  });
}
