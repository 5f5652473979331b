// Token families: a login session, an app's authorization by a user, or an app's
// own client credentials. Refresh tokens descend from a family and rotate on
// every use; a refresh token presented a second time means someone kept a copy,
// so the whole family is revoked (RFC 9700 section 4.14.2), which also ends every
// access token naming it in `sid`. Refresh tokens are random and stored only as
// keyed hashes.
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { familyTag } from '../cache/tags.ts';
import type { Kysely, Transaction } from 'kysely';
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import { randomBase62, randomToken } from '../crypto/random.ts';
import type { Database, TokenFamiliesTable } from '../db/schema.ts';
import { transactionOn, type Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import type { RevocationList } from './revocation.ts';
import { ACCESS_TOKEN_AFTERLIFE_MS, REFRESH_TOKEN_SECONDS } from './token-lifetimes.ts';

export type Family = TokenFamiliesTable;
export type FamilyKind = Family['kind'];

export interface NewFamily {
  kind: FamilyKind;
  accountId: string;
  projectId: string;
  environment: 'live' | 'test';
  userId: string | null;
  clientId: string | null;
  scopes: readonly string[];
}

export interface IssuedRefreshToken {
  token: string;
  id: string;
  expiresAtMs: number;
}

export type Redemption =
  | { outcome: 'rotated'; family: Family; refresh: IssuedRefreshToken }
  /** Unknown, expired, revoked, or not the caller's: nothing was changed. */
  | { outcome: 'invalid' }
  /** Already used: the family has just been revoked. */
  | { outcome: 'reused'; family: Family };

export interface FoundRefreshToken {
  id: string;
  family: Family;
  createdAtMs: number;
  expiresAtMs: number;
  used: boolean;
}

type Db = Kysely<Database> | Transaction<Database>;

export const familyScopes = (family: Family): string[] => JSON.parse(family.scopes) as string[];

const PURGE_EVERY_MS = 10 * 60_000;

export class TokenFamilies {
  #lastPurge = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hash: KeyedHash,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
    /** The token verifier caches families (src/cache/invalidation.ts). */
    private readonly invalidation: Invalidation = noCaching(),
  ) {}

  async create(input: NewFamily, db: Db = this.db): Promise<Family> {
    const prefix = input.kind === 'session' ? 'sess' : 'grt';
    const family: Family = {
      id: `${prefix}_${randomBase62(24)}`,
      kind: input.kind,
      account_id: input.accountId,
      project_id: input.projectId,
      environment: input.environment,
      user_id: input.userId,
      client_id: input.clientId,
      scopes: JSON.stringify(input.scopes),
      created_at: iso(this.clock()),
      revoked_at: null,
      revoked_reason: null,
    };
    await db.insertInto('token_families').values(family).execute();
    return family;
  }

  async get(id: string, db: Db = this.db): Promise<Family | null> {
    return (await db.selectFrom('token_families').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /** The client-credentials family of an app: one per app, so its tokens count as one grant. */
  async clientCredentialsFamily(input: Omit<NewFamily, 'kind' | 'userId'> & { clientId: string }, db: Db = this.db): Promise<Family> {
    const existing = await db
      .selectFrom('token_families')
      .selectAll()
      .where('client_id', '=', input.clientId)
      .where('kind', '=', 'client_credentials')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (existing) return existing;
    return this.create({ ...input, kind: 'client_credentials', userId: null }, db);
  }

  async issueRefreshToken(familyId: string, db: Db = this.db): Promise<IssuedRefreshToken> {
    const token = randomToken(32);
    const now = this.clock();
    const expiresAtMs = now + REFRESH_TOKEN_SECONDS * 1000;
    const id = `rt_${randomBase62(24)}`;
    await db
      .insertInto('refresh_tokens')
      .values({ id, hash: this.hash(token), family_id: familyId, created_at: iso(now), expires_at: iso(expiresAtMs), used_at: null })
      .execute();
    return { token, id, expiresAtMs };
  }

  /** Looks a refresh token up without changing anything (introspection, revocation). */
  async findRefreshToken(token: string, db: Db = this.db): Promise<FoundRefreshToken | null> {
    const row = await db
      .selectFrom('refresh_tokens as r')
      .innerJoin('token_families as f', 'f.id', 'r.family_id')
      .selectAll('f')
      .select(['r.id as refresh_id', 'r.created_at as refresh_created_at', 'r.expires_at as refresh_expires_at', 'r.used_at as refresh_used_at'])
      .where('r.hash', 'in', this.hash.candidates(token))
      .executeTakeFirst();
    if (!row) return null;
    const { refresh_id, refresh_created_at, refresh_expires_at, refresh_used_at, ...family } = row;
    return { id: refresh_id, family, createdAtMs: Date.parse(refresh_created_at), expiresAtMs: Date.parse(refresh_expires_at), used: refresh_used_at !== null };
  }

  /** Whether a found refresh token can still be redeemed: unused, unexpired, its family not revoked. */
  isActive(found: FoundRefreshToken): boolean {
    return !found.used && found.family.revoked_at === null && found.expiresAtMs > this.clock();
  }

  /**
   * Trades a refresh token for its successor. `belongs` says whether the family is
   * the caller's (a session for /v1/auth/refresh, the authenticated app's grant at
   * /oauth/token); a token that is not is left untouched, so nobody can burn
   * someone else's token. With `tx`, the rotation (or the revocation of a reused
   * token's family) commits with the unit, and with its audit entry.
   */
  async redeem(token: string, belongs: (family: Family) => boolean, tx?: Tx): Promise<Redemption> {
    if (!tx) return transactionOn(this.db)((own) => this.redeem(token, belongs, own));
    const found = await this.findRefreshToken(token, tx.trx);
    if (!found || !belongs(found.family)) return { outcome: 'invalid' };
    if (found.used) return this.reused(found.family, tx);
    if (!this.isActive(found)) return { outcome: 'invalid' };
    // Only one of two concurrent redemptions wins (the second waits for the row, then
    // finds it used); the other is a reuse.
    const used = await tx.trx.updateTable('refresh_tokens').set({ used_at: iso(this.clock()) }).where('id', '=', found.id).where('used_at', 'is', null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return this.reused(found.family, tx);
    const refresh = await this.issueRefreshToken(found.family.id, tx.trx);
    await this.purgeExpired(tx.trx);
    return { outcome: 'rotated', family: found.family, refresh };
  }

  /** Drops refresh tokens past their expiry (used or not, they can no longer be redeemed), now and then. */
  private async purgeExpired(db: Db): Promise<void> {
    const now = this.clock();
    if (now - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = now;
    await db.deleteFrom('refresh_tokens').where('expires_at', '<', iso(now)).execute();
  }

  /**
   * Revokes a family: its refresh tokens stop working, and its access tokens on their next
   * request. With `tx`, it commits with the unit (and its audit entry), and the caches hear
   * of it only once it has: a revocation that rolls back is never seen.
   */
  async revoke(familyId: string, reason: string, tx?: Tx): Promise<boolean> {
    if (!tx) return transactionOn(this.db)((own) => this.revoke(familyId, reason, own));
    const now = this.clock();
    const result = await tx.trx
      .updateTable('token_families')
      .set({ revoked_at: iso(now), revoked_reason: reason })
      .where('id', '=', familyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await this.revocations.revoke(familyId, now + ACCESS_TOKEN_AFTERLIFE_MS, tx);
    tx.afterCommit(() => this.invalidation.invalidate([familyTag(familyId)]));
    return Number(result.numUpdatedRows) === 1;
  }

  /** Revokes every live family of a user (password reset) or of an app (app deleted), all at once. Returns how many. */
  async revokeAllOf(owner: { userId: string } | { clientId: string }, reason: string, tx?: Tx): Promise<number> {
    if (!tx) return transactionOn(this.db)((own) => this.revokeAllOf(owner, reason, own));
    let query = tx.trx.selectFrom('token_families').select('id').where('revoked_at', 'is', null);
    query = 'userId' in owner ? query.where('user_id', '=', owner.userId) : query.where('client_id', '=', owner.clientId);
    const rows = await query.execute();
    for (const row of rows) await this.revoke(row.id, reason, tx);
    return rows.length;
  }

  private async reused(family: Family, tx: Tx): Promise<Redemption> {
    await this.revoke(family.id, 'refresh_token_reused', tx);
    return { outcome: 'reused', family };
  }
}
