// Before any measurement, bench/run.ts checks that a baseline answers what ours does, so
// that no server is measured doing less: the same status, the same body (byte for byte,
// but for a new workflow's id and times), and the same headers. The floor must send the
// very header values too (but for those that change with every request); the typical
// assembly sends the same header names with its packages' values (helmet's, express-rate-
// limit's), and may add what Express adds by default (ETag).
import { request } from './processes.ts';

export interface Exchange {
  name: string;
  path: string;
  options: { method?: string; headers: Record<string, string>; body?: string };
}

/** Headers whose value changes from one request to the next: compared by name only. */
const PER_REQUEST_HEADERS = new Set([
  'x-request-id',
  'date',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit',
]);
/** Headers of the transport, not of the answer. */
const TRANSPORT_HEADERS = new Set(['connection', 'keep-alive', 'content-length']);
/** What Express adds by default and a typical assembly keeps. */
const EXPRESS_DEFAULTS = new Set(['etag']);

/** The differences between the baseline's answers and ours, in words; none when they agree. */
export async function differences(
  ours: string,
  theirs: string,
  exchanges: Exchange[],
  headers: 'values' | 'names',
): Promise<string[]> {
  const unlike: string[] = [];
  for (const exchange of exchanges) {
    // One after the other: a POST must not race the reads.
    const mine = await request(`${ours}${exchange.path}`, exchange.options);
    const its = await request(`${theirs}${exchange.path}`, exchange.options);
    if (mine.status !== its.status) unlike.push(`${exchange.name}: status ${its.status}, ours ${mine.status}`);
    const described = (answer: { headers: Record<string, unknown> }, ignored: Set<string>) =>
      Object.keys(answer.headers)
        .filter((name) => !TRANSPORT_HEADERS.has(name) && !ignored.has(name))
        .sort()
        .map((name) =>
          (headers === 'names' && name !== 'content-type') || PER_REQUEST_HEADERS.has(name)
            ? name
            : `${name}: ${String(answer.headers[name])}`,
        )
        .join('\n');
    const theirsIgnored = headers === 'names' ? EXPRESS_DEFAULTS : new Set<string>();
    if (described(mine, new Set()) !== described(its, theirsIgnored))
      unlike.push(`${exchange.name}: headers\n${described(its, theirsIgnored)}\nours\n${described(mine, new Set())}`);
    const comparable = (body: string) =>
      exchange.options.method === 'POST' ? body.replace(/"(id|created_at|updated_at)":"[^"]*"/g, '"$1":""') : body;
    if (comparable(mine.body) !== comparable(its.body))
      unlike.push(`${exchange.name}: body\n${its.body}\nours\n${mine.body}`);
  }
  return unlike;
}
