// Handlers are typed from generated/api.d.ts: a handler for `getWorkflow` receives
// that operation's path parameters, query and body, and may only return one of
// its documented success responses with the documented body. The registry type
// (`Handlers`) has one entry per operationId, so a missing handler is a compile
// error, and src/http/routes.ts also checks both directions at start-up.
import type { operations } from '../../generated/api.d.ts';
import type { Principal } from '../auth/principal.ts';
import type { OperationId } from '../contract/operations.ts';
import type { RequestContext } from './request-context.ts';

type Operation<K extends OperationId> = operations[K];

type Part<K extends OperationId, Where extends string> = Operation<K>['parameters'] extends infer P
  ? P extends Record<Where, infer V>
    ? [V] extends [undefined]
      ? Record<string, never>
      : NonNullable<V>
    : Record<string, never>
  : never;

type BodyOf<K extends OperationId> =
  Operation<K> extends { requestBody: infer B }
    ? B extends { content: infer C }
      ? C[keyof C]
      : B extends { content?: infer C }
        ? C extends object
          ? C[keyof C] | undefined
          : undefined
        : undefined
    : Operation<K> extends { requestBody?: infer B }
      ? B extends { content: infer C }
        ? C[keyof C] | undefined
        : undefined
      : undefined;

type Responses<K extends OperationId> = Operation<K>['responses'];
// 503 is an answer, not an error, for the health check.
type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202 | 204 | 302 | 303 | 503>;
type ContentOf<R> = R extends { content: infer C } ? C[keyof C] : undefined;

/** One of the operation's documented success answers. */
export type Reply<K extends OperationId> = {
  [S in SuccessStatus<K>]: {
    status: S;
    body: ContentOf<Responses<K>[S]>;
    /** Declared response headers beyond the ones the pipeline sets (request id, rate limits). */
    headers?: Record<string, string>;
    /** For non-JSON bodies (the consent page): the media type to send. */
    contentType?: string;
  };
}[SuccessStatus<K>];

export interface HandlerInput<K extends OperationId> {
  params: Part<K, 'path'>;
  query: Part<K, 'query'>;
  headers: Part<K, 'header'>;
  body: BodyOf<K>;
  context: RequestContext;
  /** Raw request headers that matter to a handler without being declared per operation (Authorization on /oauth, cookies). */
  rawHeaders: Record<string, string | string[] | undefined>;
}

export type Handler<K extends OperationId> = (input: HandlerInput<K>) => Promise<Reply<K>>;

export type Handlers = { [K in OperationId]: Handler<K> };

/** The principal of a secured operation; authentication guarantees it is there. */
export function principalOf(context: RequestContext): Principal {
  if (!context.principal)
    throw new Error(`operation ${context.operation?.operationId ?? '?'} reached its handler without a principal`);
  return context.principal;
}
