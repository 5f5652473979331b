// The test server and a client typed by the contract, in one line per test file:
//
//   const api = useTestServer({ clock: time.clock });
//   const created = await api.client.POST('/v1/workflows', { body: definition(steps) });
//   expect(created.status).toBe(201);
//   expect(created.data?.data.version).toBe(1);
//   expectError(await api.as(readOnlyKey).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id } } }), 403, 'insufficient_scope');
//
// The client is openapi-fetch over generated/api.d.ts: paths, parameters, bodies and
// answers are checked by the compiler, so a test cannot call an operation the contract
// does not have or read a field an answer does not carry. Each answer is openapi-fetch's
// `{ data, error, response }` plus its `status`, `headers` and raw `text` (for the
// assertions that a secret never appears in an answer). Redirects are not followed.
//
// A test that sends what the contract refuses on purpose says so: `offContract(value)`
// for a body or parameter the types reject. What a typed client cannot send at all
// (a path outside the contract, raw bytes, a wrong content type, malformed headers)
// goes through `untypedRequest` (test/support/fixtures.ts) or test/support/raw-http.ts.
import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type FetchResponse,
  type MaybeOptionalInit,
} from 'openapi-fetch';
import { afterAll, beforeAll } from 'vitest';
import type { components, paths } from '../../generated/api.d.ts';
import {
  startIdentityServer,
  startTestServer,
  type IdentityServer,
  type TestServer,
  type TestServerOptions,
} from './server.ts';

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
type Operation<P extends keyof paths, M extends Method> = paths[P][M] extends infer O extends Record<
  string | number,
  unknown
>
  ? O
  : never;
type Init<P extends keyof paths, M extends Method> = MaybeOptionalInit<paths[P], M>;
type InitArgument<I> = undefined extends I ? [init?: I] : [init: I];

/** The paths whose GET answers a page of a list (`data` and `next_cursor`). */
export type ListPath = {
  [P in keyof paths]: paths[P]['get'] extends {
    responses: { 200: { content: { 'application/json': { next_cursor: unknown } } } };
  }
    ? P
    : never;
}[keyof paths];

/** openapi-fetch's result, with the status, headers and text of the answer at hand. */
export type Answer<O extends Record<string | number, unknown>> = FetchResponse<O, object, 'application/json'> & {
  status: number;
  headers: Headers;
  /** The body as received (empty when there was none). */
  text: string;
};

/** The error envelope of every `/v1` error answer. */
export type ErrorEnvelope = components['schemas']['Error'];

/**
 * Any answer of the client, whatever its operation: for helpers that check what all
 * answers share (status, headers, the error envelope).
 */
export interface AnyAnswer {
  status: number;
  headers: Headers;
  text: string;
  data?: unknown;
  error?: unknown;
}

/** The error envelope of an answer (undefined when the answer is not one). */
export function envelopeOf(answer: AnyAnswer): ErrorEnvelope | undefined {
  return answer.error as ErrorEnvelope | undefined;
}

type Call<M extends Method> = <P extends ClientPathsWithMethod<Client<paths>, M>>(
  path: P,
  ...init: InitArgument<Init<P, M>>
) => Promise<Answer<Operation<P, M>>>;

export interface ApiClient {
  GET: Call<'get'>;
  POST: Call<'post'>;
  PUT: Call<'put'>;
  PATCH: Call<'patch'>;
  DELETE: Call<'delete'>;
}

export interface ClientOptions {
  /** Send the credential as `X-API-Key` instead of `Authorization: Bearer`. */
  apiKeyHeader?: boolean;
  /** Sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
}

/**
 * A value the contract's types refuse, sent on purpose (an invalid body, a parameter of
 * the wrong type): the test is about the server's answer to it.
 */
export function offContract(value: unknown): never {
  return value as never;
}

/** A typed client of the server at `baseUrl`, authenticated with `credential` (none when null or undefined). */
export function createApiClient(
  baseUrl: string,
  credential: string | null | undefined,
  options: ClientOptions = {},
): ApiClient {
  const texts = new WeakMap<Response, string>();
  const authentication: Record<string, string> =
    credential === null || credential === undefined
      ? {}
      : options.apiKeyHeader
        ? { 'X-API-Key': credential }
        : { Authorization: `Bearer ${credential}` };
  const client = createClient<paths, 'application/json'>({
    baseUrl,
    redirect: 'manual',
    headers: { ...options.headers, ...authentication },
    // openapi-fetch reads the body once to parse it; the text is kept for the tests that read it as received.
    fetch: async (request) => {
      const response = await fetch(request);
      texts.set(response, await response.clone().text());
      return response;
    },
  });
  type Untyped = (
    path: string,
    init?: unknown,
  ) => Promise<FetchResponse<Record<string, never>, object, 'application/json'>>;
  const send =
    (method: Untyped) =>
    async (path: string, init?: unknown): Promise<unknown> => {
      const result = await method(path, init);
      return Object.assign(result, {
        status: result.response.status,
        headers: result.response.headers,
        text: texts.get(result.response) ?? '',
      });
    };
  return {
    GET: send(client.GET as Untyped) as Call<'get'>,
    POST: send(client.POST as Untyped) as Call<'post'>,
    PUT: send(client.PUT as Untyped) as Call<'put'>,
    PATCH: send(client.PATCH as Untyped) as Call<'patch'>,
    DELETE: send(client.DELETE as Untyped) as Call<'delete'>,
  };
}

/** A typed client of a test server, with `credential` (none when null). */
export function clientFor(
  server: Pick<TestServer, 'baseUrl'>,
  credential: string | null | undefined,
  options?: ClientOptions,
): ApiClient {
  return createApiClient(server.baseUrl, credential, options);
}

/** Headers a trusted proxy adds for a remote HTTPS client at `ip`. */
export function proxiedFrom(ip: string): Record<string, string> {
  return { 'X-Forwarded-For': ip, 'X-Forwarded-Proto': 'https' };
}

export interface ApiHandle<S extends TestServer = TestServer> {
  /** The running server (from beforeAll on). */
  readonly server: S;
  /** A client with the server's all-scopes test key. */
  readonly client: ApiClient;
  /** A client with another credential (none when null). */
  as(credential: string | null | undefined, options?: ClientOptions): ApiClient;
  /** A client reaching the server through its trusted proxy from `ip` over HTTPS (the server must trust the loopback proxy). */
  fromIp(ip: string, credential?: string | null): ApiClient;
}

function useServer<S extends TestServer>(start: () => Promise<S>): ApiHandle<S> {
  let running: S | undefined;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(async () => {
    await running?.close();
  });
  const server = (): S => {
    if (!running) throw new Error('the test server is not running: use it inside a test or a hook');
    return running;
  };
  return {
    get server() {
      return server();
    },
    get client() {
      return clientFor(server(), server().secretKey);
    },
    as: (credential, options) => clientFor(server(), credential, options),
    fromIp: (ip, credential = server().secretKey) => clientFor(server(), credential, { headers: proxiedFrom(ip) }),
  };
}

/** Options, or a function that makes them when the server starts (in beforeAll). */
export type ServerOptions = TestServerOptions | (() => TestServerOptions | Promise<TestServerOptions>);

const resolve = async (options: ServerOptions): Promise<TestServerOptions> =>
  typeof options === 'function' ? options() : options;

/** Starts a test server (test/support/server.ts) before the file's tests and closes it after them. */
export function useTestServer(options: ServerOptions = {}): ApiHandle {
  return useServer(async () => startTestServer(await resolve(options)));
}

/** The same, for a server whose public URL (the tokens' issuer) is the address it is reached at. */
export function useIdentityServer(options: ServerOptions = {}): ApiHandle<IdentityServer> {
  return useServer(async () => startIdentityServer(await resolve(options)));
}
