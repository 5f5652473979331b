// The audit log: append-only records of security events and mutations. Callers
// describe what happened; this module adds where it came from (IP, user agent,
// request id) and who acted, from the request context, so no caller can forget
// them. Metadata is checked for secrets-shaped keys before it is written.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { components } from '../../generated/api.d.ts';
import type { Principal } from '../auth/principal.ts';
import { precompiledInsert } from '../db/precompiled.ts';
import { insideSavepoint } from '../db/savepoint.ts';
import type { Database } from '../db/schema.ts';
import type { Tx } from '../db/transaction.ts';
import { newId } from '../domain/ids.ts';
import { afterPosition, decodeCursor, toPage, type Page } from '../domain/pagination.ts';
import { iso, type Clock } from '../domain/time.ts';

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
      return { type: 'oauth_client', id: principal.clientId, keyId: null, userId: principal.userId, clientId: principal.clientId };
  }
}

/** Names that would hold a secret; metadata never carries them (a programming error if it tries). `code` is an error code. */
const SECRET_NAMES = /^(secret|client_secret|password|token|access_token|refresh_token|id_token|credential|credentials|authorization|authorization_code|code_verifier|api_key|key|cookie)$/i;

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

type AuditRow = Database['audit_logs'];

export class AuditLog {
  /** Every mutation writes one entry: its insert is compiled once (src/db/precompiled.ts). */
  readonly #insert: (row: AuditRow, executor?: Kysely<Database>) => Promise<void>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.#insert = precompiledInsert(db, 'audit_logs');
  }

  /**
   * `executor`: the transaction of the change being recorded, so that the change and its
   * entry commit together or not at all (a crash between two commits would leave a change
   * nobody can see in the log).
   */
  async record(context: AuditOrigin, event: AuditEvent, executor?: Kysely<Database>): Promise<void> {
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
    await this.#insert({
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
      }, executor);
  }

  /**
   * The entry of a refusal that revoked something (a reused refresh token, a replayed
   * authorization code): the revocation must commit even though the answer is an error,
   * and it must not be lost to its entry either. The entry is written in a savepoint of
   * the revocation's unit: when it cannot be written, only it is undone and the revocation
   * still commits. Returns that failure, for the caller to throw once the unit has
   * committed (a 500, logged, instead of the refusal), or null.
   */
  async recordDenial(context: AuditOrigin, event: AuditEvent & { outcome: 'denied' }, tx: Tx): Promise<{ error: unknown } | null> {
    const written = await insideSavepoint(tx.trx, 'denial_entry', () => this.record(context, event, tx.trx));
    return written.ok ? null : { error: written.error };
  }

  /** The project's entries of `environment` and its account-level ones, newest first. */
  async list(scope: { projectId: string; environment: 'live' | 'test' }, filters: AuditFilters, limit: number, cursor: string | undefined): Promise<Page<AuditEntry>> {
    const list = `audit:${createHash('sha256').update(JSON.stringify(Object.entries(filters).filter(([, v]) => v !== undefined).sort())).digest('base64url').slice(0, 16)}`;
    const position = decodeCursor(list, cursor);
    let query = this.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('project_id', '=', scope.projectId)
      .where((eb) => eb.or([eb('environment', '=', scope.environment), eb('environment', 'is', null)]));
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.outcome) query = query.where('outcome', '=', filters.outcome);
    if (filters.actor_id) query = query.where('actor_id', '=', filters.actor_id);
    if (filters.resource_type) query = query.where('resource_type', '=', filters.resource_type);
    if (filters.resource_id) query = query.where('resource_id', '=', filters.resource_id);
    if (filters.request_id) query = query.where('request_id', '=', filters.request_id);
    if (filters.since) query = query.where('occurred_at', '>=', iso(Date.parse(filters.since)));
    if (filters.until) query = query.where('occurred_at', '<', iso(Date.parse(filters.until)));
    if (position) query = query.where(afterPosition(position, 'occurred_at'));
    const rows = await query.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    return toPage(list, rows, limit, toEntry, (row) => ({ createdAt: row.occurred_at, id: row.id }));
  }
}

function toEntry(row: Database['audit_logs']): AuditEntry {
  return {
    id: row.id,
    occurred_at: row.occurred_at,
    action: row.action as AuditAction,
    outcome: row.outcome,
    actor: { type: row.actor_type, id: row.actor_id, key_id: row.actor_key_id, user_id: row.actor_user_id, client_id: row.actor_client_id },
    resource: row.resource_type && row.resource_id ? { type: row.resource_type as AuditResourceType, id: row.resource_id } : null,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    environment: row.environment,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}
