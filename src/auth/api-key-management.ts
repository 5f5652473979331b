// Managing API keys: creation within the creator's reach, listing, revocation,
// rotation with a grace period, leaked-key reports, and the import of legacy keys. What
// a caller may create, rotate or revoke is decided by src/auth/reach.ts, never here;
// authenticating a presented key is src/auth/api-key-verification.ts.
import type { components } from '../../generated/api.d.ts';
import type { Invalidation } from '../cache/invalidation.ts';
import { keyTag } from '../cache/tags.ts';
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import type { ApiKeyRepository, ApiKeyRow } from '../db/repositories/api-keys.ts';
import type { Tx } from '../db/transaction.ts';
import { newId } from '../domain/ids.ts';
import { byCreation, decodeCursor, toPage, type Page } from '../domain/pagination.ts';
import { iso, type Clock } from '../domain/time.ts';
import { ApiError, notFound } from '../errors.ts';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import type { Tenant } from '../tenant.ts';
import { displayParts, generateApiKey, parseApiKey, type ApiKeyType, type Environment } from './api-key-format.ts';
import type { LastUsedRecorder } from './last-used.ts';
import type { Principal } from './principal.ts';
import { fenceFromStored, mayActOn, reachForNew, type Reach } from './reach.ts';

export type ApiKeyView = components['schemas']['ApiKey'];
export type ApiKeyWithSecret = components['schemas']['ApiKeyWithSecret'];
export type ApiKeyCreate = components['schemas']['ApiKeyCreate'];
type Status = components['schemas']['ApiKeyStatus'];
type KeyRow = ApiKeyRow;

/** Which scopes each key type may hold at all, whatever its creator holds. */
function scopeProblem(type: ApiKeyType, scopes: readonly string[]): string | null {
  if (type === 'restricted') {
    const bad = scopes.filter((s) => s !== 'read' && !s.endsWith(':read'));
    return bad.length ? `Restricted (rk_) keys hold only *:read scopes; not ${bad.join(', ')}.` : null;
  }
  if (type === 'client') {
    const bad = scopes.filter((s) => s !== 'events:write');
    return bad.length ? `Client (ck_) keys hold only events:write; not ${bad.join(', ')}.` : null;
  }
  return null;
}

export class ApiKeyManagement {
  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly hash: KeyedHash,
    private readonly clock: Clock,
    private readonly lastUsed: LastUsedRecorder,
    /** How authentication's caches hear of revocations and rotations (src/cache/invalidation.ts). */
    private readonly invalidation: Invalidation,
  ) {}

  // create, revoke, rotate and revokeLeaked take the unit of work of their audit entry
  // (handlers/api-keys.ts); caches hear of a change once it has committed, before the answer.
  async create(principal: Principal, input: ApiKeyCreate, tx: Tx): Promise<ApiKeyWithSecret> {
    const type = input.type ?? 'secret';
    const scopes = [...new Set(input.scopes)];
    const problem = scopeProblem(type, scopes);
    if (problem) throw new ApiError('invalid_scope', problem);
    const now = this.clock();
    const askedEnd = input.expires_at == null ? null : Date.parse(input.expires_at);
    if (askedEnd !== null && askedEnd <= now) {
      throw new ApiError('validation_failed', 'expires_at must be in the future.', {
        details: [{ location: 'body.expires_at', message: 'must be in the future' }],
      });
    }
    const reach = reachForNew(principal, {
      environment: input.environment,
      scopes,
      allowedIps: normaliseNetworks(input.allowed_ips ?? []),
      notAfter: askedEnd,
    });
    const { environment } = reach;
    const allowedIps = reach.allowedIps.map((cidr) => cidr.text);
    const expiresAt = reach.notAfter;
    const secret = generateApiKey(type, environment);
    const row = await this.repository.insert(
      { projectId: principal.projectId, environment },
      {
        id: newId('key'),
        account_id: principal.accountId,
        type,
        name: input.name,
        scopes: JSON.stringify(scopes),
        allowed_ips: JSON.stringify(allowedIps),
        expires_at: expiresAt === null ? null : iso(expiresAt),
        ...displayParts(secret),
        created_at: iso(now),
        revoked_at: null,
        previous_secret_expires_at: null,
        last_used_at: null,
        last_used_ip: null,
      },
      this.hash(secret),
      tx,
    );
    return { ...this.view(row), secret };
  }

  async list(
    tenant: Tenant,
    filters: { status?: Status; type?: ApiKeyType },
    limit: number,
    cursor?: string,
  ): Promise<Page<ApiKeyView>> {
    const list = `keys:${filters.status ?? ''}:${filters.type ?? ''}`;
    const position = decodeCursor(list, cursor);
    const rows = await this.repository.page(tenant, { ...filters, now: iso(this.clock()) }, position, limit + 1);
    return toPage(list, rows, limit, (row) => this.view(row), byCreation);
  }

  async get(tenant: Tenant, id: string): Promise<ApiKeyView> {
    const row = await this.repository.find(tenant, id);
    if (!row) throw notFound('API key');
    return this.view(row);
  }

  async revoke(principal: Principal, id: string, tx: Tx): Promise<{ key: ApiKeyView; changed: boolean }> {
    const row = await this.rowIn(principal, id, tx);
    // Revoking itself only ever takes reach away, whatever secret the key was sent with.
    const itself = principal.method === 'api_key' && principal.keyId === id;
    if (!itself) mayActOn(principal, reachOfKey(row), 'revoke', `key ${id}`);
    if (row.revoked_at !== null) return { key: this.view(row), changed: false };
    const revokedAt = iso(this.clock());
    await this.repository.revoke(principal, id, revokedAt, tx);
    // After the commit, before answering: the next request with this key, here or on any instance, must be refused.
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(id)]));
    return { key: this.view({ ...row, revoked_at: revokedAt }), changed: true };
  }

  async rotate(principal: Principal, id: string, graceSeconds: number, tx: Tx): Promise<ApiKeyWithSecret> {
    const row = await this.rowIn(principal, id, tx);
    // The rotated key is the same row: it keeps the reach of the key it replaces, never more.
    // A key rotating itself passes with its current secret; with a previous secret in its
    // grace period it reaches only until that grace ends, so it cannot renew itself.
    mayActOn(principal, reachOfKey(row), 'rotate', `key ${id}`);
    if (row.revoked_at !== null)
      throw new ApiError('api_key_revoked', 'A revoked key cannot be rotated: create a new key.');
    const now = this.clock();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now)
      throw new ApiError('api_key_revoked', 'An expired key cannot be rotated: create a new key.');
    // The grace period never outlasts the key itself.
    let graceEnd = now + graceSeconds * 1000;
    if (row.expires_at !== null) graceEnd = Math.min(graceEnd, Date.parse(row.expires_at));
    const secret = generateApiKey(row.type as ApiKeyType, row.environment);
    const updated: KeyRow = {
      ...row,
      ...displayParts(secret),
      previous_secret_expires_at: graceEnd > now ? iso(graceEnd) : null,
    };
    const next = {
      prefix: updated.prefix,
      last4: updated.last4,
      previous_secret_expires_at: updated.previous_secret_expires_at,
    };
    if (
      !(await this.repository.rotate(
        principal,
        id,
        row,
        next,
        { hash: this.hash(secret), now: iso(now), graceEnd: iso(graceEnd) },
        tx,
      ))
    ) {
      throw new ApiError(
        'idempotency_in_progress',
        'The key was rotated or revoked by another request at the same moment: read it again, then retry.',
        { headers: { 'Retry-After': '1' } },
      );
    }
    // After the commit, before answering: the old secret now has an end (X-Key-Expires-At).
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(id)]));
    return { ...this.view(updated), secret };
  }

  /** Revokes the key a leaked secret belongs to, if it is one. Says nothing to the reporter either way. */
  async revokeLeaked(
    secret: string,
    tx: Tx,
  ): Promise<{ keyId: string; accountId: string; projectId: string; environment: Environment } | null> {
    if (!parseApiKey(secret)) return null;
    const row = await this.repository.bySecretIn(this.hash.candidates(secret), tx);
    if (!row || row.revoked_at !== null) return null;
    // A secret already rotated out no longer opens anything: the owners have dealt with that
    // leak (rotation with grace 0 is the documented answer), and revoking the key for it
    // would take down the new secret they just deployed.
    if (row.secret_expires_at !== null && Date.parse(row.secret_expires_at) <= this.clock()) return null;
    await this.repository.revoke(
      { projectId: row.project_id, environment: row.environment },
      row.id,
      iso(this.clock()),
      tx,
    );
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(row.id)]));
    return { keyId: row.id, accountId: row.account_id, projectId: row.project_id, environment: row.environment };
  }

  /** Inserts a legacy `wfk_` key (migration from the old platform; `npm run admin`), in `tx`. */
  async importLegacy(
    owner: { accountId: string; projectId: string },
    name: string,
    secret: string,
    scopes: string[],
    tx: Tx,
  ): Promise<string> {
    const parsed = parseApiKey(secret);
    if (parsed?.kind !== 'legacy') throw new Error('not a legacy wfk_ key');
    const now = iso(this.clock());
    const row = await this.repository.insert(
      { projectId: owner.projectId, environment: 'live' },
      {
        id: newId('key'),
        account_id: owner.accountId,
        type: 'legacy',
        name,
        scopes: JSON.stringify(scopes),
        allowed_ips: '[]',
        expires_at: null,
        prefix: secret.slice(0, 8),
        last4: secret.slice(-4),
        created_at: now,
        revoked_at: null,
        previous_secret_expires_at: null,
        last_used_at: null,
        last_used_ip: null,
      },
      this.hash(secret),
      tx,
    );
    return row.id;
  }

  /** The principal's key (in its project and environment) as `tx` sees it. */
  private async rowIn(tenant: Tenant, id: string, tx: Tx): Promise<KeyRow> {
    const row = await this.repository.findIn(tenant, id, tx);
    if (!row) throw notFound('API key');
    return row;
  }

  private view(row: KeyRow): ApiKeyView {
    const now = this.clock();
    const pending = this.lastUsed.pending(row.id);
    const status: Status =
      row.revoked_at !== null
        ? 'revoked'
        : row.expires_at !== null && Date.parse(row.expires_at) <= now
          ? 'expired'
          : 'active';
    const previous =
      row.previous_secret_expires_at !== null && Date.parse(row.previous_secret_expires_at) > now
        ? row.previous_secret_expires_at
        : null;
    return {
      id: row.id,
      name: row.name,
      type: row.type as ApiKeyType,
      environment: row.environment,
      prefix: row.prefix,
      last4: row.last4,
      scopes: JSON.parse(row.scopes) as ApiKeyView['scopes'],
      allowed_ips: JSON.parse(row.allowed_ips) as string[],
      expires_at: row.expires_at,
      created_at: row.created_at,
      last_used_at: pending ? iso(pending.at) : row.last_used_at,
      last_used_ip: pending ? pending.ip : row.last_used_ip,
      revoked_at: row.revoked_at,
      previous_secret_expires_at: status === 'active' ? previous : null,
      status,
    };
  }
}

/** What a stored key reaches: what a caller must reach at least to rotate or revoke it. */
function reachOfKey(row: KeyRow): Reach {
  const fence = fenceFromStored(row.allowed_ips, row.expires_at);
  return {
    projectId: row.project_id,
    environments: [row.environment],
    scopes: JSON.parse(row.scopes) as string[],
    ...fence,
  };
}

function normaliseNetworks(entries: string[]): Cidr[] {
  const networks = new Map<string, Cidr>();
  entries.forEach((entry, index) => {
    const cidr = parseCidr(entry);
    if (!cidr) {
      throw new ApiError('validation_failed', `allowed_ips[${index}] is not a CIDR network.`, {
        details: [
          { location: `body.allowed_ips[${index}]`, message: 'must be an IPv4 or IPv6 network in CIDR notation' },
        ],
      });
    }
    networks.set(cidr.text, cidr);
  });
  return [...networks.values()];
}
