// What the pipeline learns about a request as it passes through (its id, the
// client address, the operation, the principal), kept on res.locals under one
// typed key so that no middleware invents its own fields on `req`.
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal.ts';
import type { ContractOperation } from '../contract/operations.ts';
import type { RateLimitDecision } from '../rate-limit/index.ts';

export interface RequestContext {
  requestId: string;
  /** The client address after trusted-proxy resolution. */
  ip: string;
  userAgent: string | null;
  startedAt: number;
  operation: ContractOperation | null;
  principal: Principal | null;
  /** The rate-limit decision that admitted the request, when it was counted. */
  rateLimit: RateLimitDecision | null;
}

const KEY = 'aetherflow';

export function initContext(res: Response, context: RequestContext): RequestContext {
  (res.locals as Record<string, unknown>)[KEY] = context;
  return context;
}

export function contextOf(res: Response): RequestContext {
  const context = (res.locals as Record<string, unknown>)[KEY] as RequestContext | undefined;
  if (!context) throw new Error('request context missing: the request-id middleware must run first');
  return context;
}

export function userAgentOf(req: Request): string | null {
  const agent = req.get('user-agent');
  return agent ? agent.slice(0, 1024) : null;
}
