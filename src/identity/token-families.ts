// Token families: a login session, an app's authorization by a user, or an app's
// own client credentials. Refresh tokens descend from a family and rotate on
// every use; a refresh token presented a second time means someone kept a copy,
// so the whole family is revoked (RFC 9700 section 4.14.2), which also ends every
// access token naming it in `sid`. Refresh tokens are random and stored only as
// keyed hashes.
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { familyTag } from '../cache/tags.ts';
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import { randomBase62, randomToken } from '../crypto/random.ts';
import type { FamilyRow, RefreshTokenWithFamily, TokenFamilyRepository } from '../db/repositories/token-families.ts';
import type { Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import type { RevocationList } from './revocation.ts';
import { ACCESS_TOKEN_AFTERLIFE_MS, REFRESH_TOKEN_SECONDS } from './token-lifetimes.ts';

export type Family = FamilyRow;
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

export const familyScopes = (family: Family): string[] => JSON.parse(family.scopes) as string[];

const PURGE_EVERY_MS = 10 * 60_000;

export class TokenFamilies {
  #lastPurge = 0;

  constructor(
    private readonly repository: TokenFamilyRepository,
    private readonly hash: KeyedHash,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
    /** The token verifier caches families (src/cache/invalidation.ts). */
    private readonly invalidation: Invalidation = noCaching(),
  ) {}

  async create(input: NewFamily, tx: Tx): Promise<Family> {
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
    await this.repository.insert(family, tx);
    return family;
  }

  /** Removes a family just created in `tx` that is not needed after all (a lost race). */
  async discard(familyId: string, tx: Tx): Promise<void> {
    await this.repository.discard(familyId, tx);
  }

  async get(id: string): Promise<Family | null> {
    return (await this.repository.find(id)) ?? null;
  }

  async getIn(id: string, tx: Tx): Promise<Family | null> {
    return (await this.repository.findIn(id, tx)) ?? null;
  }

  /** The client-credentials family of an app: one per app, so its tokens count as one grant. */
  async clientCredentialsFamily(
    input: Omit<NewFamily, 'kind' | 'userId'> & { clientId: string },
    tx: Tx,
  ): Promise<Family> {
    const existing = await this.repository.liveClientCredentials(input.clientId, tx);
    if (existing) return existing;
    return this.create({ ...input, kind: 'client_credentials', userId: null }, tx);
  }

  async issueRefreshToken(familyId: string, tx: Tx): Promise<IssuedRefreshToken> {
    const token = randomToken(32);
    const now = this.clock();
    const expiresAtMs = now + REFRESH_TOKEN_SECONDS * 1000;
    const id = `rt_${randomBase62(24)}`;
    await this.repository.insertRefreshToken(
      {
        id,
        hash: this.hash(token),
        family_id: familyId,
        created_at: iso(now),
        expires_at: iso(expiresAtMs),
        used_at: null,
      },
      tx,
    );
    return { token, id, expiresAtMs };
  }

  /** Looks a refresh token up without changing anything (introspection). */
  async findRefreshToken(token: string): Promise<FoundRefreshToken | null> {
    return found(await this.repository.refreshToken(this.hash.candidates(token)));
  }

  /** The same, as `tx` sees it (a revocation, a logout, a redemption). */
  async findRefreshTokenIn(token: string, tx: Tx): Promise<FoundRefreshToken | null> {
    return found(await this.repository.refreshTokenIn(this.hash.candidates(token), tx));
  }

  /** Whether a found refresh token can still be redeemed: unused, unexpired, its family not revoked. */
  isActive(found: FoundRefreshToken): boolean {
    return !found.used && found.family.revoked_at === null && found.expiresAtMs > this.clock();
  }

  /**
   * Trades a refresh token for its successor. `belongs` says whether the family is
   * the caller's (a session for /v1/auth/refresh, the authenticated app's grant at
   * /oauth/token); a token that is not is left untouched, so nobody can burn
   * someone else's token. The rotation (or the revocation of a reused token's family)
   * commits with `tx`, and with its audit entry.
   */
  async redeem(token: string, belongs: (family: Family) => boolean, tx: Tx): Promise<Redemption> {
    const found = await this.findRefreshTokenIn(token, tx);
    if (!found || !belongs(found.family)) return { outcome: 'invalid' };
    if (found.used) return this.reused(found.family, tx);
    if (!this.isActive(found)) return { outcome: 'invalid' };
    // Only one of two concurrent redemptions wins (the second waits for the row, then
    // finds it used); the other is a reuse.
    if (!(await this.repository.markUsed(found.id, iso(this.clock()), tx))) return this.reused(found.family, tx);
    const refresh = await this.issueRefreshToken(found.family.id, tx);
    await this.purgeExpired(tx);
    return { outcome: 'rotated', family: found.family, refresh };
  }

  /** Drops refresh tokens past their expiry (used or not, they can no longer be redeemed), now and then. */
  private async purgeExpired(tx: Tx): Promise<void> {
    const now = this.clock();
    if (now - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = now;
    await this.repository.purgeRefreshTokens(iso(now), tx);
  }

  /**
   * Revokes a family: its refresh tokens stop working, and its access tokens on their next
   * request. It commits with `tx` (and its audit entry), and the caches hear of it only
   * once it has: a revocation that rolls back is never seen.
   */
  async revoke(familyId: string, reason: string, tx: Tx): Promise<boolean> {
    const now = this.clock();
    const changed = await this.repository.revoke(familyId, iso(now), reason, tx);
    await this.revocations.revoke(familyId, now + ACCESS_TOKEN_AFTERLIFE_MS, tx);
    tx.afterCommit(() => this.invalidation.invalidate([familyTag(familyId)]));
    return changed;
  }

  /** Revokes every live family of a user (password reset) or of an app (app deleted), all at once. Returns how many. */
  async revokeAllOf(owner: { userId: string } | { clientId: string }, reason: string, tx: Tx): Promise<number> {
    const ids = await this.repository.liveOf(owner, tx);
    for (const id of ids) await this.revoke(id, reason, tx);
    return ids.length;
  }

  private async reused(family: Family, tx: Tx): Promise<Redemption> {
    await this.revoke(family.id, 'refresh_token_reused', tx);
    return { outcome: 'reused', family };
  }
}

function found(row: RefreshTokenWithFamily | undefined): FoundRefreshToken | null {
  if (!row) return null;
  return {
    id: row.refresh.id,
    family: row.family,
    createdAtMs: Date.parse(row.refresh.created_at),
    expiresAtMs: Date.parse(row.refresh.expires_at),
    used: row.refresh.used_at !== null,
  };
}
