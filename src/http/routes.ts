// Answers each contract operation with the handler of the same operationId.
// Start-up fails when an operation has no handler or a handler has no operation,
// so the server and the contract cannot drift apart silently.
import type { Request, RequestHandler, Response } from 'express';
import type { Contract, ContractOperation } from '../contract/operations.ts';
import type { IdempotencyStore, StoredReply } from '../domain/idempotency.ts';
import { principalId } from '../auth/principal.ts';
import type { Handlers } from './handler.ts';
import { contextOf } from './request-context.ts';
import { sendJson } from './send-json.ts';

export class HandlerRegistryError extends Error {}

/** A handler seen from the router, which serves every operation alike. */
type AnyHandler = (
  input: unknown,
) => Promise<{ status: number; body: unknown; headers?: Record<string, string>; contentType?: string }>;

export function checkHandlers(contract: Contract, handlers: Record<string, unknown>): void {
  const operations = new Set(contract.operations.map((operation) => operation.operationId as string));
  const missing = [...operations].filter((id) => typeof handlers[id] !== 'function');
  const orphans = Object.keys(handlers).filter((id) => !operations.has(id));
  const problems = [
    ...(missing.length ? [`operations without a handler: ${missing.join(', ')}`] : []),
    ...(orphans.length ? [`handlers without an operation in the contract: ${orphans.join(', ')}`] : []),
  ];
  if (problems.length) throw new HandlerRegistryError(`The handlers do not match the contract: ${problems.join('; ')}`);
}

/**
 * One middleware that answers every operation with its handler. The operation is
 * already known (operation-match.ts matched the request against the contract with
 * regexes compiled once), so an Express Router, which would match the path again
 * against each route in turn, is not needed: only the path parameters are read, and
 * decoded as Express decodes them.
 */
export function contractRoutes(contract: Contract, handlers: Handlers, idempotency: IdempotencyStore): RequestHandler {
  checkHandlers(contract, handlers);
  const byOperation = new Map(
    contract.operations.map((operation) => [operation, handlers[operation.operationId] as unknown as AnyHandler]),
  );
  return (req, res, next) => {
    const operation = contextOf(res).operation;
    const handler = operation ? byOperation.get(operation) : undefined;
    // Unreachable behind operation-match (it answers 404/405 first); a plain 404 otherwise.
    if (!operation || !handler) return next();
    const params = pathParameters(operation, req.path);
    if (params instanceof Error) return next(params);
    req.params = params;
    answer(operation, handler, idempotency, req, res).catch(next);
  };
}

/** The operation's path parameters, percent-decoded; a 400 error for one that does not decode (as Express's router answers). */
function pathParameters(operation: ContractOperation, path: string): Record<string, string> | Error {
  const params: Record<string, string> = {};
  if (operation.pathParameters.length === 0) return params;
  const match = operation.pathPattern.exec(path);
  if (!match) return Object.assign(new Error('not found'), { status: 404 });
  for (let i = 0; i < operation.pathParameters.length; i++) {
    const raw = match[i + 1]!;
    try {
      params[operation.pathParameters[i]!] = decodeURIComponent(raw);
    } catch {
      return Object.assign(new URIError(`Failed to decode param '${raw}'`), { status: 400 });
    }
  }
  return params;
}

async function answer(
  operation: ContractOperation,
  handler: AnyHandler,
  idempotency: IdempotencyStore,
  req: Request,
  res: Response,
): Promise<void> {
  const context = contextOf(res);
  const input = {
    params: req.params,
    query: req.query,
    headers: req.headers,
    body: req.body as unknown,
    context,
    rawHeaders: req.headers,
  };
  const execute = async (): Promise<StoredReply & { contentType?: string }> => {
    const reply = await handler(input);
    return {
      status: reply.status,
      body: reply.body,
      headers: reply.headers ?? {},
      ...(reply.contentType ? { contentType: reply.contentType } : {}),
    };
  };

  const key = req.get('idempotency-key');
  let reply: StoredReply & { contentType?: string };
  if (operation.idempotent && key !== undefined && context.principal) {
    const outcome = await idempotency.run(
      {
        projectId: context.principal.projectId,
        environment: context.principal.environment,
        principalId: principalId(context.principal),
        operationId: operation.operationId,
        key,
      },
      { method: req.method, path: req.path, body: req.body },
      execute,
    );
    reply = outcome.reply;
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  } else {
    reply = await execute();
  }

  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  if (reply.body === undefined) res.status(reply.status).end();
  else if (reply.contentType) res.status(reply.status).type(reply.contentType).send(reply.body);
  else sendJson(req, res, reply.status, reply.body);
}
