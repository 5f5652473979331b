// Which operations take an `Idempotency-Key`, so that the transport sends one
// (the same on every attempt) and a retried POST never runs twice. Only those:
// the server would refuse the header nowhere, but on other operations it means
// nothing, and a retry of them is not made safe by it.
//
// The list is checked against the contract by the type checker: an operation of
// generated/api.d.ts that declares the header and is missing here, or an entry
// here whose operation does not declare it, fails `npm run typecheck`.
import type { paths } from './types.js';

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';

type HasIdempotencyKey<Header> = [Header] extends [never]
  ? false
  : 'Idempotency-Key' extends keyof Header
    ? true
    : false;

/** `"post /v1/workflows"` for every operation whose header parameters include `Idempotency-Key`. */
type DeclaredIdempotent = {
  [P in keyof paths]: {
    [M in Method]: paths[P][M] extends { parameters: { header?: infer H } }
      ? HasIdempotencyKey<NonNullable<H>> extends true
        ? `${M} ${P & string}`
        : never
      : never;
  }[Method];
}[keyof paths];

const IDEMPOTENT = [
  'post /v1/workflows',
  'post /v1/workflows/{workflow_id}/run',
  'post /v1/runs/{run_id}/retry',
  'post /v1/connections',
  'post /v1/events',
] as const satisfies readonly DeclaredIdempotent[];

// Fails to compile, naming the operation, when the contract gains one not listed above.
type Unlisted = Exclude<DeclaredIdempotent, (typeof IDEMPOTENT)[number]>;
const everyDeclaredOperationIsListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyDeclaredOperationIsListed;

const matchers = IDEMPOTENT.map((entry) => {
  const [method, template] = entry.split(' ') as [string, string];
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
  return { method: method.toUpperCase(), path: new RegExp(`^${pattern}$`) };
});

/**
 * True when the request is one of the operations that declare `Idempotency-Key`.
 * `basePath` is the path of the client's base URL (`/api` in `https://host/api`).
 */
export function acceptsIdempotencyKey(request: Request, basePath = ''): boolean {
  let pathname = new URL(request.url).pathname;
  const prefix = basePath.replace(/\/+$/, '');
  if (prefix && pathname.startsWith(prefix)) pathname = pathname.slice(prefix.length);
  return matchers.some((matcher) => matcher.method === request.method && matcher.path.test(pathname));
}
