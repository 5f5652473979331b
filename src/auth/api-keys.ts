// API keys: creation within the creator's reach, authentication by keyed hash,
// revocation, rotation with a grace period, and leaked-key reports. What a caller
// may create, rotate or revoke is decided by src/auth/reach.ts, never here.
import type { Kysely, Transaction } from 'kysely';
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { TaggedCache } from '../cache/tagged-cache.ts';
import { accountTag, keyTag } from '../cache/tags.ts';
import type { components } from '../../generated/api.d.ts';
import type { Database } from '../db/schema.ts';
import { transactionOn, type Tx } from '../db/transaction.ts';
import { afterPosition } from '../db/repositories/keyset.ts';
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import { newId } from '../domain/ids.ts';
import { byCreation, decodeCursor, toPage, type Page } from '../domain/pagination.ts';
import { iso, type Clock } from '../domain/time.ts';
import { ApiError, notFound } from '../errors.ts';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import { displayParts, generateApiKey, parseApiKey, type ApiKeyType, type Environment } from './api-key-format.ts';
import type { LastUsedRecorder } from './last-used.ts';
import type { ApiKeyPrincipal, Plan, Principal, SchemeName } from './principal.ts';
import { fenceFromStored, mayActOn, reachForNew, type Reach } from './reach.ts';

export type ApiKeyView = components['schemas']['ApiKey'];
export type ApiKeyWithSecret = components['schemas']['ApiKeyWithSecret'];
export type ApiKeyCreate = components['schemas']['ApiKeyCreate'];
type Status = components['schemas']['ApiKeyStatus'];

type KeyRow = Database['api_keys'];

/**
 * A refusal of a key that was found (revoked or expired). It names the key, so that the audit entry of the refusal is written
 * under the key's id in the key's project: otherwise it has no tenant, and the
 * project's owners (who most need to see a revoked key still in use, or a key used
 * from an unexpected network) could never list it.
 */
export class KeyRefusedError extends ApiError {
  constructor(
    code: 'revoked_api_key' | 'expired_api_key',
    message: string,
    readonly key: { keyId: string; accountId: string; projectId: string; environment: Environment },
  ) {
    super(code, message);
  }
}

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

/** How long a verified key may be served from memory without reading it again (see TaggedCache). */
export const KEY_CACHE_MAX_AGE_MS = 30_000;

/** What authentication needs to know about a key, as the database said. */
interface KnownKey {
  id: string;
  type: ApiKeyPrincipal['keyType'];
  accountId: string;
  projectId: string;
  environment: Environment;
  plan: Plan;
  scopes: string[];
  allowed: Cidr[];
  expiresAt: number | null;
  /** When the presented secret stops working (a rotated secret's grace period), or null. */
  secretExpiresAt: number | null;
  revoked: boolean;
}

export class ApiKeyService {
  /**
   * Verified keys by the keyed hash of their secret (never the secret): what the
   * database said about the key, its secret and its account's plan. Dropped when the
   * key is revoked or rotated or the plan changes (here or on another instance, see
   * src/cache/invalidation.ts); what depends on time or on the caller's address is
   * checked on every request.
   */
  readonly #verified: TaggedCache<KnownKey>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hash: KeyedHash,
    private readonly clock: Clock,
    private readonly lastUsed: LastUsedRecorder,
    private readonly invalidation: Invalidation = noCaching(),
  ) {
    this.#verified = new TaggedCache(invalidation, { maxEntries: 10_000, maxAgeMs: KEY_CACHE_MAX_AGE_MS });
  }

  /**
   * Verifies a presented key. Throws the precise 401; never says more than the code does.
   * Its allowlist is the principal's fence, checked for every credential alike
   * (src/http/authenticate.ts).
   */
  async authenticate(secret: string, scheme: SchemeName, ip: string): Promise<ApiKeyPrincipal> {
    const parsed = parseApiKey(secret);
    // A malformed key or a bad checksum is refused before any lookup.
    if (!parsed) throw new ApiError('invalid_api_key', 'The API key provided is invalid.');
    if (parsed.kind === 'legacy' && scheme !== 'ApiKeyHeader') {
      throw new ApiError('invalid_api_key', 'Legacy wfk_ keys are accepted only in the X-API-Key header.');
    }
    const current = this.hash(secret);
    const key = this.#verified.get(current) ?? (await this.lookup(secret, current));
    if (!key || (parsed.kind === 'modern' && (key.type !== parsed.type || key.environment !== parsed.environment))) {
      throw new ApiError('invalid_api_key', 'The API key provided is invalid.');
    }
    const now = this.clock();
    const owner = { keyId: key.id, accountId: key.accountId, projectId: key.projectId, environment: key.environment };
    if (key.revoked) throw new KeyRefusedError('revoked_api_key', 'This API key has been revoked.', owner);
    if (key.expiresAt !== null && key.expiresAt <= now) throw new KeyRefusedError('expired_api_key', 'This API key has expired.', owner);
    if (key.secretExpiresAt !== null && key.secretExpiresAt <= now) {
      throw new KeyRefusedError('expired_api_key', "This API key was rotated and its grace period has ended: use the key's new secret.", owner);
    }
    this.lastUsed.touch(key.id, ip, now);
    const expiresAt = key.expiresAt === null ? key.secretExpiresAt : key.secretExpiresAt === null ? key.expiresAt : Math.min(key.expiresAt, key.secretExpiresAt);
    return {
      method: 'api_key',
      scheme,
      keyId: key.id,
      keyType: key.type,
      accountId: key.accountId,
      projectId: key.projectId,
      environment: key.environment,
      plan: key.plan,
      scopes: key.scopes,
      expiresAt,
      fence: { allowedIps: key.allowed, notAfter: expiresAt },
      graceEndsAt: key.secretExpiresAt,
    };
  }

  /** The key a secret opens, from the database; remembered when it is stored under the current hash secret. */
  private async lookup(secret: string, current: string): Promise<KnownKey | null> {
    const generation = this.#verified.generation;
    const row = await this.db
      .selectFrom('api_key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .innerJoin('accounts as a', 'a.id', 'k.account_id')
      .select([
        's.expires_at as secret_expires_at',
        'k.id',
        'k.account_id',
        'k.project_id',
        'k.environment',
        'k.type',
        'k.scopes',
        'k.allowed_ips',
        'k.expires_at',
        'k.revoked_at',
        'a.plan',
        's.hash',
      ])
      .where('s.hash', 'in', this.hash.candidates(secret))
      .executeTakeFirst();
    if (!row) return null;
    // Stored under a hash secret being rotated out: store it under the current one from now on.
    if (row.hash !== current) await this.db.updateTable('api_key_secrets').set({ hash: current }).where('hash', '=', row.hash).execute();
    const key: KnownKey = {
      id: row.id,
      type: row.type,
      accountId: row.account_id,
      projectId: row.project_id,
      environment: row.environment,
      plan: row.plan as Plan,
      scopes: JSON.parse(row.scopes) as string[],
      allowed: (JSON.parse(row.allowed_ips) as string[]).map((text) => parseCidr(text)).filter((c): c is Cidr => c !== null),
      expiresAt: row.expires_at === null ? null : Date.parse(row.expires_at),
      secretExpiresAt: row.secret_expires_at === null ? null : Date.parse(row.secret_expires_at),
      revoked: row.revoked_at !== null,
    };
    if (row.hash === current) this.#verified.set(current, key, [keyTag(row.id), accountTag(row.account_id)], generation);
    return key;
  }

  // create, revoke, rotate and revokeLeaked take the unit of work of their audit entry
  // (handlers/api-keys.ts); caches hear of a change once it has committed, before the answer.
  async create(principal: Principal, input: ApiKeyCreate, tx?: Tx): Promise<ApiKeyWithSecret> {
    if (!tx) return transactionOn(this.db)((own) => this.create(principal, input, own));
    const type = input.type ?? 'secret';
    const scopes = [...new Set(input.scopes)];
    const problem = scopeProblem(type, scopes);
    if (problem) throw new ApiError('invalid_scope', problem);
    const now = this.clock();
    const askedEnd = input.expires_at == null ? null : Date.parse(input.expires_at);
    if (askedEnd !== null && askedEnd <= now) {
      throw new ApiError('validation_failed', 'expires_at must be in the future.', { details: [{ location: 'body.expires_at', message: 'must be in the future' }] });
    }
    const reach = reachForNew(principal, {
      environment: input.environment,
      scopes,
      allowedIps: this.normaliseNetworks(input.allowed_ips ?? []),
      notAfter: askedEnd,
    });
    const { environment } = reach;
    const allowedIps = reach.allowedIps.map((cidr) => cidr.text);
    const expiresAt = reach.notAfter;
    const secret = generateApiKey(type, environment);
    const id = newId('key');
    const row: KeyRow = {
      id,
      account_id: principal.accountId,
      project_id: principal.projectId,
      environment,
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
    };
    await tx.trx.insertInto('api_keys').values(row).execute();
    await tx.trx.insertInto('api_key_secrets').values({ hash: this.hash(secret), key_id: id, expires_at: null, created_at: iso(now) }).execute();
    return { ...this.view(row), secret };
  }

  async list(principal: Principal, filters: { status?: Status; type?: ApiKeyType }, limit: number, cursor?: string): Promise<Page<ApiKeyView>> {
    const list = `keys:${filters.status ?? ''}:${filters.type ?? ''}`;
    const position = decodeCursor(list, cursor);
    const now = iso(this.clock());
    let query = this.scoped(principal);
    if (filters.type) query = query.where('type', '=', filters.type);
    if (filters.status === 'revoked') query = query.where('revoked_at', 'is not', null);
    if (filters.status === 'expired') query = query.where('revoked_at', 'is', null).where('expires_at', '<=', now);
    if (filters.status === 'active') {
      query = query.where('revoked_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    }
    if (position) query = query.where(afterPosition(position));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    return toPage(list, rows, limit, (row) => this.view(row), byCreation);
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    return this.view(await this.find(this.db, principal, id));
  }

  async revoke(principal: Principal, id: string, tx: Tx): Promise<{ key: ApiKeyView; changed: boolean }> {
    const db = tx.trx;
    const row = await this.find(db, principal, id);
    // Revoking itself only ever takes reach away, whatever secret the key was sent with.
    const itself = principal.method === 'api_key' && principal.keyId === id;
    if (!itself) mayActOn(principal, reachOfKey(row), 'revoke', `key ${id}`);
    if (row.revoked_at !== null) return { key: this.view(row), changed: false };
    const revokedAt = iso(this.clock());
    await db.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    // After the commit, before answering: the next request with this key, here or on any instance, must be refused.
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(id)]));
    return { key: this.view({ ...row, revoked_at: revokedAt }), changed: true };
  }

  async rotate(principal: Principal, id: string, graceSeconds: number, tx?: Tx): Promise<ApiKeyWithSecret> {
    if (!tx) return transactionOn(this.db)((own) => this.rotate(principal, id, graceSeconds, own));
    const { trx } = tx;
    const row = await this.find(trx, principal, id);
    // The rotated key is the same row: it keeps the reach of the key it replaces, never more.
    // A key rotating itself passes with its current secret; with a previous secret in its
    // grace period it reaches only until that grace ends, so it cannot renew itself.
    mayActOn(principal, reachOfKey(row), 'rotate', `key ${id}`);
    if (row.revoked_at !== null) throw new ApiError('api_key_revoked', 'A revoked key cannot be rotated: create a new key.');
    const now = this.clock();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now) throw new ApiError('api_key_revoked', 'An expired key cannot be rotated: create a new key.');
    // The grace period never outlasts the key itself.
    let graceEnd = now + graceSeconds * 1000;
    if (row.expires_at !== null) graceEnd = Math.min(graceEnd, Date.parse(row.expires_at));
    const secret = generateApiKey(row.type as ApiKeyType, row.environment);
    const updated: KeyRow = { ...row, ...displayParts(secret), previous_secret_expires_at: graceEnd > now ? iso(graceEnd) : null };
    // The key's row first, guarded by the secret we read: of two concurrent rotations (or a
    // rotation and a revocation) on several instances, the second waits for the row lock and
    // then finds it changed, so a key never ends up with two current secrets.
    const claimed = await trx
      .updateTable('api_keys')
      .set({ prefix: updated.prefix, last4: updated.last4, previous_secret_expires_at: updated.previous_secret_expires_at })
      .where('id', '=', id)
      .where('prefix', '=', row.prefix)
      .where('last4', '=', row.last4)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new ApiError('idempotency_in_progress', 'The key was rotated or revoked by another request at the same moment: read it again, then retry.', { headers: { 'Retry-After': '1' } });
    // Older rotated secrets end now: only the secret being replaced gets a grace period.
    await trx.updateTable('api_key_secrets').set({ expires_at: iso(now) }).where('key_id', '=', id).where('expires_at', 'is not', null).where('expires_at', '>', iso(now)).execute();
    await trx.updateTable('api_key_secrets').set({ expires_at: iso(graceEnd) }).where('key_id', '=', id).where('expires_at', 'is', null).execute();
    await trx.insertInto('api_key_secrets').values({ hash: this.hash(secret), key_id: id, expires_at: null, created_at: iso(now) }).execute();
    // After the commit, before answering: the old secret now has an end (X-Key-Expires-At).
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(id)]));
    return { ...this.view(updated), secret };
  }

  /** Revokes the key a leaked secret belongs to, if it is one. Says nothing to the reporter either way. */
  async revokeLeaked(secret: string, tx: Tx): Promise<{ keyId: string; accountId: string; projectId: string; environment: Environment } | null> {
    if (!parseApiKey(secret)) return null;
    const db = tx.trx;
    const row = await db
      .selectFrom('api_key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .select(['k.id', 'k.account_id', 'k.project_id', 'k.environment', 'k.revoked_at', 's.expires_at as secret_expires_at'])
      .where('s.hash', 'in', this.hash.candidates(secret))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return null;
    // A secret already rotated out no longer opens anything: the owners have dealt with that
    // leak (rotation with grace 0 is the documented answer), and revoking the key for it
    // would take down the new secret they just deployed.
    if (row.secret_expires_at !== null && Date.parse(row.secret_expires_at) <= this.clock()) return null;
    await db.updateTable('api_keys').set({ revoked_at: iso(this.clock()) }).where('id', '=', row.id).where('revoked_at', 'is', null).execute();
    tx.afterCommit(() => this.invalidation.invalidate([keyTag(row.id)]));
    return { keyId: row.id, accountId: row.account_id, projectId: row.project_id, environment: row.environment };
  }

  /** Inserts a legacy `wfk_` key (migration from the old platform; `npm run admin`). */
  async importLegacy(scope: { accountId: string; projectId: string }, name: string, secret: string, scopes: string[]): Promise<string> {
    const parsed = parseApiKey(secret);
    if (parsed?.kind !== 'legacy') throw new Error('not a legacy wfk_ key');
    const id = newId('key');
    const now = iso(this.clock());
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('api_keys')
        .values({
          id,
          account_id: scope.accountId,
          project_id: scope.projectId,
          environment: 'live',
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
        })
        .execute();
      await trx.insertInto('api_key_secrets').values({ hash: this.hash(secret), key_id: id, expires_at: null, created_at: now }).execute();
    });
    return id;
  }

  private scoped(principal: Principal) {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('project_id', '=', principal.projectId)
      .where('environment', '=', principal.environment)
      .where('type', '!=', 'legacy');
  }

  private async find(db: Kysely<Database> | Transaction<Database>, principal: Principal, id: string): Promise<KeyRow> {
    const row = await db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', principal.projectId)
      .where('environment', '=', principal.environment)
      .where('type', '!=', 'legacy')
      .executeTakeFirst();
    if (!row) throw notFound('API key');
    return row;
  }

  private normaliseNetworks(entries: string[]): Cidr[] {
    const networks = new Map<string, Cidr>();
    entries.forEach((entry, index) => {
      const cidr = parseCidr(entry);
      if (!cidr) {
        throw new ApiError('validation_failed', `allowed_ips[${index}] is not a CIDR network.`, {
          details: [{ location: `body.allowed_ips[${index}]`, message: 'must be an IPv4 or IPv6 network in CIDR notation' }],
        });
      }
      networks.set(cidr.text, cidr);
    });
    return [...networks.values()];
  }

  private view(row: KeyRow): ApiKeyView {
    const now = this.clock();
    const pending = this.lastUsed.pending(row.id);
    const status: Status = row.revoked_at !== null ? 'revoked' : row.expires_at !== null && Date.parse(row.expires_at) <= now ? 'expired' : 'active';
    const previous = row.previous_secret_expires_at !== null && Date.parse(row.previous_secret_expires_at) > now ? row.previous_secret_expires_at : null;
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
  return { projectId: row.project_id, environments: [row.environment], scopes: JSON.parse(row.scopes) as string[], ...fence };
}
