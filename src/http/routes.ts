// Registers one route per contract operation, bound to the handler of the same
// operationId. Start-up fails when an operation has no handler or a handler has
// no operation, so the server and the contract cannot drift apart silently.
import { Router, type Request, type Response } from 'express';
import type { Contract, ContractOperation } from '../contract/operations.ts';
import type { IdempotencyStore, StoredReply } from '../domain/idempotency.ts';
import { principalId } from '../auth/principal.ts';
import type { Handlers } from './handler.ts';
import { contextOf } from './request-context.ts';

export class HandlerRegistryError extends Error {}

/** A handler seen from the router, which serves every operation alike. */
type AnyHandler = (input: unknown) => Promise<{ status: number; body: unknown; headers?: Record<string, string>; contentType?: string }>;

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

export function contractRoutes(contract: Contract, handlers: Handlers, idempotency: IdempotencyStore): Router {
  checkHandlers(contract, handlers as unknown as Record<string, unknown>);
  const router = Router();
  for (const operation of contract.operations) {
    const handler = handlers[operation.operationId] as unknown as AnyHandler;
    router[operation.method](operation.expressPath, async (req, res, next) => {
      try {
        await answer(operation, handler, idempotency, req, res);
      } catch (error) {
        next(error);
      }
    });
  }
  return router;
}

async function answer(operation: ContractOperation, handler: AnyHandler, idempotency: IdempotencyStore, req: Request, res: Response): Promise<void> {
  const context = contextOf(res);
  const input = { params: req.params, query: req.query, headers: req.headers, body: req.body, context, rawHeaders: req.headers };
  const execute = async (): Promise<StoredReply & { contentType?: string }> => {
    const reply = await handler(input);
    return { status: reply.status, body: reply.body, headers: reply.headers ?? {}, ...(reply.contentType ? { contentType: reply.contentType } : {}) };
  };

  const key = req.get('idempotency-key');
  let reply: StoredReply & { contentType?: string };
  if (operation.idempotent && key !== undefined && context.principal) {
    const outcome = await idempotency.run(
      { projectId: context.principal.projectId, environment: context.principal.environment, principalId: principalId(context.principal), operationId: operation.operationId, key },
      { method: req.method, path: req.path, body: req.body },
      execute,
    );
    reply = outcome.reply;
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  } else {
    reply = await execute();
  }

  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.status(reply.status);
  if (reply.body === undefined) res.end();
  else if (reply.contentType) res.type(reply.contentType).send(reply.body);
  else res.json(reply.body);
}
