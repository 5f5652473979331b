// The openapi-fetch clients the contract suite hands to scenarios: authenticated,
// anonymous, or sending a `Prefer` header to pick a mock example. All of them
// record each exchange (method, URL, request body, status, raw response text) so
// the suite can check exactly what came over the wire: openapi-fetch consumes the
// response body, and turns an unparsable one into a string or an exception.
import createClient from 'openapi-fetch';
import type { paths } from '../../generated/api.d.ts';
import type { ApiClient } from './scenario.ts';

export interface ApiClientOptions {
  /** The target's base URL, e.g. `http://127.0.0.1:4123`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <credential>`; nothing is sent when omitted. */
  credential?: string;
  /** Sent with every request, e.g. `{ Prefer: 'code=403, example=insufficient_scope' }`. */
  headers?: Record<string, string>;
}

/** One request and its response, as they went over the wire. */
export interface Exchange {
  method: string;
  url: string;
  /** The request body as text, '' when there was none. */
  requestBody: string;
  status: number;
  /** The response's Content-Type header, or null. */
  contentType: string | null;
  /** The response body as text, '' when there was none. */
  text: string;
}

const exchanges = new WeakMap<Response, Exchange>();

/** What went over the wire for a response returned by a client of createApiClient(). */
export function exchangeOf(response: Response): Exchange | undefined {
  return exchanges.get(response);
}

async function recordingFetch(request: Request, init?: RequestInit): Promise<Response> {
  const requestBody = request.body === null ? '' : await request.clone().text();
  const response = await fetch(request, init);
  const text = await response.clone().text();
  exchanges.set(response, {
    method: request.method,
    url: request.url,
    requestBody,
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
  });
  return response;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.credential !== undefined) headers.Authorization = `Bearer ${options.credential}`;
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers,
    fetch: recordingFetch,
    // A 3XX is an answer to check (OAuth redirects), not something to follow.
    redirect: 'manual',
  });
}
