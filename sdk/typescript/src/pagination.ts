// Cursor pagination as async iteration: `for await (const workflow of
// aetherflow.paginate('/v1/workflows'))` follows `next_cursor` until it is null.
// Any list operation of the contract works: the types find them by their
// `{ data: [...], next_cursor }` envelope.
import type { Client } from 'openapi-fetch';
import { unwrap } from './errors.js';
import type { paths } from './types.js';

type GetOperation<P extends keyof paths> = paths[P] extends { get: infer Operation } ? Operation : never;
type PageOf<P extends keyof paths> =
  GetOperation<P> extends { responses: { 200: { content: { 'application/json': infer Body } } } } ? Body : never;

/** The paths whose GET answers a page: `/v1/workflows`, `/v1/runs`, `/v1/audit-logs`... */
export type ListPath = {
  [P in keyof paths]: PageOf<P> extends { data: unknown[]; next_cursor: string | null } ? P : never;
}[keyof paths];

/** One page of a list, as the API returns it. */
export type Page<P extends ListPath> = PageOf<P>;
/** One item of a list: `Item<'/v1/workflows'>` is a Workflow. */
export type Item<P extends ListPath> = PageOf<P> extends { data: (infer Entry)[] } ? Entry : never;

type ListQuery<P extends ListPath> =
  GetOperation<P> extends { parameters: { query?: infer Query } } ? Omit<NonNullable<Query>, 'cursor'> : never;

export interface ListOptions<P extends ListPath> {
  /** The list's filters and page size (`limit`); the cursor is handled for you. */
  query?: ListQuery<P>;
  /** Start from this cursor instead of the first page. */
  cursor?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type LooseGet = (path: string, init: object) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** Every page, first to last. A failed request throws an AetherFlowError. */
export async function* pages<P extends ListPath>(
  client: Pick<Client<paths, 'application/json'>, 'GET'>,
  path: P,
  options: ListOptions<P> = {},
): AsyncGenerator<Page<P>, void, undefined> {
  const get = client.GET as unknown as LooseGet;
  let cursor = options.cursor ?? null;
  do {
    const query = { ...(options.query ?? {}), ...(cursor === null ? {} : { cursor }) };
    const page = (await unwrap(
      get(path, { params: { query }, headers: options.headers, signal: options.signal }),
    )) as Page<P>;
    yield page;
    const next = (page as { next_cursor: string | null }).next_cursor;
    // A cursor that does not move would loop for ever. The mock server does this: it
    // answers every request with the same example page (pick one with `Prefer`).
    if (next !== null && next === cursor)
      throw new Error(`${path}: the next_cursor of this page is the cursor that fetched it; stopping`);
    cursor = next;
  } while (cursor !== null);
}

/** Every item of every page, in order. Stop early with `break`. */
export async function* paginate<P extends ListPath>(
  client: Pick<Client<paths, 'application/json'>, 'GET'>,
  path: P,
  options: ListOptions<P> = {},
): AsyncGenerator<Item<P>, void, undefined> {
  for await (const page of pages(client, path, options)) {
    yield* (page as { data: Item<P>[] }).data;
  }
}
