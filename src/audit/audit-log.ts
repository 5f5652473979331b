// The audit log: append-only records of security events and mutations. Callers
// describe what happened; this module adds where it came from (IP, user agent,
// request id) and who acted, from the request context, so no caller can forget
// them. Metadata is checked for secrets-shaped keys before it is written.
import { createHash } from 'node:crypto';
import type { components } from '../../generated/api.d.ts';
import type { Principal } from '../auth/principal.ts';
import type { AuditLogRepository, AuditRow } from '../db/repositories/audit-log.ts';
import { withinSavepoint, type Tx } from '../db/transaction.ts';
import { newId } from '../domain/ids.ts';
import { decodeCursor, toPage, type Page } from '../domain/pagination.ts';
import { iso, type Clock } from '../domain/time.ts';
import type { Tenant } from '../tenant.ts';

export type AuditAction = components['schemas']['AuditLogAction'];
export type AuditOutcome = components['schemas']['AuditLogOutcome'];
export type AuditEntry = components['schemas']['AuditLogEntry'];
export type AuditResourceType = components['schemas']['AuditLogResourceType'];

/**
 * Where an audited event came from: what the pipeline knows of a request when it is
 * recorded (src/http/request-context.ts's RequestContext is one), or what an operator's
 * command says of itself.
 */
export interface AuditOrigin {
  requestId: string;
  ip: string;
  userAgent: string | null;
  principal: Principal | null;
}

export interface AuditEvent {
  action: AuditAction;
  outcome: AuditOutcome;
  resource?: { type: AuditResourceType; id: string } | null;
  metadata?: Record<string, unknown>;
  /** Who acted, when it is not the request's principal (e.g. a leaked-key report acts on a key's project anonymously). */
  actor?: Actor;
  /** The tenant the entry belongs to, when there is no principal (failed logins, leaked-key reports). */
  tenant?: { accountId: string | null; projectId: string | null; environment: 'live' | 'test' | null };
}

export interface Actor {
  type: 'user' | 'api_key' | 'oauth_client' | 'anonymous' | 'system';
  id: string | null;
  keyId: string | null;
  userId: string | null;
  clientId: string | null;
}

export const ANONYMOUS: Actor = { type: 'anonymous', id: null, keyId: null, userId: null, clientId: null };
export const SYSTEM: Actor = { type: 'system', id: null, keyId: null, userId: null, clientId: null };

export function actorOf(principal: Principal | null): Actor {
  if (!principal) return ANONYMOUS;
  switch (principal.method) {
    case 'api_key':
      return { type: 'api_key', id: principal.keyId, keyId: principal.keyId, userId: null, clientId: null };
    case 'jwt':
      return { type: 'user', id: principal.userId, keyId: null, userId: principal.userId, clientId: null };
    case 'oauth':
      return {
        type: 'oauth_client',
        id: principal.clientId,
        keyId: null,
        userId: principal.userId,
        clientId: principal.clientId,
      };
  }
}

/** Names that would hold a secret; metadata never carries them (a programming error if it tries). `code` is an error code. */
const SECRET_NAMES =
  /^(secret|client_secret|password|token|access_token|refresh_token|id_token|credential|credentials|authorization|authorization_code|code_verifier|api_key|key|cookie)$/i;

export interface AuditFilters {
  action?: AuditAction;
  outcome?: AuditOutcome;
  actor_id?: string;
  resource_type?: AuditResourceType;
  resource_id?: string;
  request_id?: string;
  since?: string;
  until?: string;
}

export class AuditLog {
  constructor(
    private readonly repository: AuditLogRepository,
    private readonly clock: Clock,
  ) {}

  /** An entry with no change to commit with (a refusal, a failed login, a denial): written on its own. */
  async record(context: AuditOrigin, event: AuditEvent): Promise<void> {
    await this.repository.insert(this.entry(context, event));
  }

  /**
   * An entry in `tx`, the unit of work of the change being recorded, so that the change and
   * its entry commit together or not at all (a crash between two commits would leave a
   * change nobody can see in the log).
   */
  async recordIn(context: AuditOrigin, event: AuditEvent, tx: Tx): Promise<void> {
    await this.repository.insertIn(this.entry(context, event), tx);
  }

  /**
   * The entry of a refusal that revoked something (a reused refresh token, a replayed
   * authorization code): the revocation must commit even though the answer is an error,
   * and it must not be lost to its entry either. The entry is written in a savepoint of
   * the revocation's unit: when it cannot be written, only it is undone and the revocation
   * still commits. Returns that failure, for the caller to throw once the unit has
   * committed (a 500, logged, instead of the refusal), or null.
   */
  async recordDenial(
    context: AuditOrigin,
    event: AuditEvent & { outcome: 'denied' },
    tx: Tx,
  ): Promise<{ error: unknown } | null> {
    const written = await withinSavepoint(tx, 'denial_entry', () => this.recordIn(context, event, tx));
    return written.ok ? null : { error: written.error };
  }

  /** The final count of an aggregated `rate_limit.exceeded` entry (src/http/rate-limit-audit.ts), written on its own. */
  async updateRateLimitCount(requestId: string, metadata: Record<string, unknown>): Promise<void> {
    await this.repository.updateMetadata(requestId, 'rate_limit.exceeded', JSON.stringify(metadata));
  }

  /** The tenant's entries of its environment and its account-level ones, newest first. */
  async list(
    tenant: Tenant,
    filters: AuditFilters,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<AuditEntry>> {
    const list = `audit:${createHash('sha256')
      .update(
        JSON.stringify(
          Object.entries(filters)
            .filter(([, v]) => v !== undefined)
            .sort(),
        ),
      )
      .digest('base64url')
      .slice(0, 16)}`;
    const position = decodeCursor(list, cursor);
    const { since, until, ...exact } = filters;
    const rows = await this.repository.page(
      tenant,
      {
        ...exact,
        ...(since ? { since: iso(Date.parse(since)) } : {}),
        ...(until ? { until: iso(Date.parse(until)) } : {}),
      },
      position,
      limit + 1,
    );
    return toPage(list, rows, limit, toEntry, (row) => ({ createdAt: row.occurred_at, id: row.id }));
  }

  /** The row of an entry; metadata is checked for secrets-shaped names first. */
  private entry(context: AuditOrigin, event: AuditEvent): AuditRow {
    const metadata = event.metadata ?? {};
    for (const name of Object.keys(metadata)) {
      if (SECRET_NAMES.test(name)) throw new Error(`audit metadata must not carry "${name}": it looks like a secret`);
    }
    const actor = event.actor ?? actorOf(context.principal);
    const tenant = event.tenant ?? {
      accountId: context.principal?.accountId ?? null,
      projectId: context.principal?.projectId ?? null,
      environment: context.principal?.environment ?? null,
    };
    return {
      id: newId('aud'),
      account_id: tenant.accountId,
      project_id: tenant.projectId,
      environment: tenant.environment,
      occurred_at: iso(this.clock()),
      action: event.action,
      outcome: event.outcome,
      actor_type: actor.type,
      actor_id: actor.id,
      actor_key_id: actor.keyId,
      actor_user_id: actor.userId,
      actor_client_id: actor.clientId,
      resource_type: event.resource?.type ?? null,
      resource_id: event.resource?.id ?? null,
      ip: context.ip,
      user_agent: context.userAgent,
      request_id: context.requestId,
      metadata: JSON.stringify(metadata),
    };
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    occurred_at: row.occurred_at,
    action: row.action as AuditAction,
    outcome: row.outcome,
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      key_id: row.actor_key_id,
      user_id: row.actor_user_id,
      client_id: row.actor_client_id,
    },
    resource:
      row.resource_type && row.resource_id
        ? { type: row.resource_type as AuditResourceType, id: row.resource_id }
        : null,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    environment: row.environment,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}
