// Idempotency-Key: the first request with a key runs; a retry with the same key
// and the same request gets the stored answer; the same key with another request
// is a 409. The key's row is claimed with one conditional insert, so of two
// concurrent requests exactly one runs and the other gets `idempotency_in_progress`.
// A failed first attempt releases the key, so the client's retry runs again. A claim
// whose request could not release it (its instance died, or the database was down when
// it failed) is abandoned after IN_PROGRESS_LEASE_MS, far longer than any request runs
// (every database call has a deadline), so that the retry is not refused for a day.
import { createHash } from 'node:crypto';
import type { IdempotencyRepository } from '../db/repositories/idempotency.ts';
import { ApiError } from '../errors.ts';
import { iso, type Clock } from './time.ts';

const TTL_MS = 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 1000;
export const IN_PROGRESS_LEASE_MS = 30 * 1000;

export interface StoredReply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface IdempotencyScope {
  projectId: string;
  environment: string;
  principalId: string;
  operationId: string;
  key: string;
}

export class IdempotencyStore {
  #lastSweep = 0;

  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly clock: Clock,
  ) {}

  async run(
    scope: IdempotencyScope,
    request: { method: string; path: string; body: unknown },
    execute: () => Promise<StoredReply>,
  ): Promise<{ reply: StoredReply; replayed: boolean }> {
    const now = this.clock();
    await this.sweep(now);
    const scopeHash = sha256(
      JSON.stringify([scope.projectId, scope.environment, scope.principalId, scope.operationId, scope.key]),
    );
    const requestHash = sha256(JSON.stringify([request.method, request.path, canonical(request.body)]));

    // An expired row of this key no longer counts.
    await this.repository.dropExpired(scopeHash, iso(now));
    const claimed = await this.repository.claim({
      scope_hash: scopeHash,
      request_hash: requestHash,
      state: 'in_progress',
      response_status: null,
      response_body: null,
      response_headers: null,
      created_at: iso(now),
      expires_at: iso(now + TTL_MS),
    });

    if (!claimed) {
      const existing = await this.repository.find(scopeHash);
      if (!existing) return this.run(scope, request, execute); // released meanwhile: try to claim again
      if (existing.request_hash !== requestHash) {
        throw new ApiError(
          'idempotency_conflict',
          'This Idempotency-Key was already used with a different request: use a new key for a new request.',
        );
      }
      if (existing.state !== 'done' || existing.response_status === null) {
        if (Date.parse(existing.created_at) <= now - IN_PROGRESS_LEASE_MS) {
          // Abandoned: released here, unless another request took it over first (then its claim is newer).
          await this.repository.releaseAbandoned(scopeHash, existing.created_at);
          return this.run(scope, request, execute);
        }
        throw new ApiError(
          'idempotency_in_progress',
          'A request with this Idempotency-Key is still being processed: retry after a short wait.',
          { headers: { 'Retry-After': '1' } },
        );
      }
      return {
        replayed: true,
        reply: {
          status: existing.response_status,
          body: JSON.parse(existing.response_body ?? 'null') as unknown,
          headers: JSON.parse(existing.response_headers ?? '{}') as Record<string, string>,
        },
      };
    }

    let reply: StoredReply;
    try {
      reply = await execute();
    } catch (error) {
      // The request's own failure is its answer; a release that fails too (the database down) is left to the lease.
      await this.repository.release(scopeHash).catch(() => undefined);
      throw error;
    }
    await this.repository.complete(scopeHash, {
      response_status: reply.status,
      response_body: JSON.stringify(reply.body),
      response_headers: JSON.stringify(reply.headers),
    });
    return { reply, replayed: false };
  }

  private async sweep(now: number): Promise<void> {
    if (now - this.#lastSweep < SWEEP_EVERY_MS) return;
    this.#lastSweep = now;
    await this.repository.sweep(iso(now));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]);
  }
  return value;
}
