// Authenticating a presented API key: its format and checksum first, then the key its
// keyed hash opens (from memory when verified before: src/auth/verified-key-cache.ts),
// then what depends on time (revocation, expiry, a rotated secret's grace period). The
// key's allowlist is the principal's fence, checked for every credential alike
// (src/http/authenticate.ts).
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import type { ApiKeyRepository } from '../db/repositories/api-keys.ts';
import type { Clock } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import { parseApiKey, type Environment } from './api-key-format.ts';
import type { LastUsedRecorder } from './last-used.ts';
import type { ApiKeyPrincipal, Plan, SchemeName } from './principal.ts';
import type { KnownKey, VerifiedKeyCache } from './verified-key-cache.ts';

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

export class ApiKeyVerifier {
  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly hash: KeyedHash,
    private readonly clock: Clock,
    private readonly lastUsed: LastUsedRecorder,
    /** With noCaching() behind it, every key is read from the database. */
    private readonly verified: VerifiedKeyCache,
  ) {}

  /** Verifies a presented key. Throws the precise 401; never says more than the code does. */
  async authenticate(secret: string, scheme: SchemeName, ip: string): Promise<ApiKeyPrincipal> {
    const parsed = parseApiKey(secret);
    // A malformed key or a bad checksum is refused before any lookup.
    if (!parsed) throw new ApiError('invalid_api_key', 'The API key provided is invalid.');
    if (parsed.kind === 'legacy' && scheme !== 'ApiKeyHeader') {
      throw new ApiError('invalid_api_key', 'Legacy wfk_ keys are accepted only in the X-API-Key header.');
    }
    const current = this.hash(secret);
    const key = this.verified.get(current) ?? (await this.lookup(secret, current));
    if (!key || (parsed.kind === 'modern' && (key.type !== parsed.type || key.environment !== parsed.environment))) {
      throw new ApiError('invalid_api_key', 'The API key provided is invalid.');
    }
    const now = this.clock();
    const owner = { keyId: key.id, accountId: key.accountId, projectId: key.projectId, environment: key.environment };
    if (key.revoked) throw new KeyRefusedError('revoked_api_key', 'This API key has been revoked.', owner);
    if (key.expiresAt !== null && key.expiresAt <= now)
      throw new KeyRefusedError('expired_api_key', 'This API key has expired.', owner);
    if (key.secretExpiresAt !== null && key.secretExpiresAt <= now) {
      throw new KeyRefusedError(
        'expired_api_key',
        "This API key was rotated and its grace period has ended: use the key's new secret.",
        owner,
      );
    }
    this.lastUsed.touch(key.id, ip, now);
    const expiresAt =
      key.expiresAt === null
        ? key.secretExpiresAt
        : key.secretExpiresAt === null
          ? key.expiresAt
          : Math.min(key.expiresAt, key.secretExpiresAt);
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
    const generation = this.verified.generation;
    const row = await this.repository.bySecret(this.hash.candidates(secret));
    if (!row) return null;
    // Stored under a hash secret being rotated out: store it under the current one from now on.
    if (row.hash !== current) await this.repository.rehash(row.hash, current);
    const key: KnownKey = {
      id: row.id,
      type: row.type,
      accountId: row.account_id,
      projectId: row.project_id,
      environment: row.environment,
      plan: row.plan as Plan,
      scopes: JSON.parse(row.scopes) as string[],
      allowed: (JSON.parse(row.allowed_ips) as string[])
        .map((text) => parseCidr(text))
        .filter((c): c is Cidr => c !== null),
      expiresAt: row.expires_at === null ? null : Date.parse(row.expires_at),
      secretExpiresAt: row.secret_expires_at === null ? null : Date.parse(row.secret_expires_at),
      revoked: row.revoked_at !== null,
    };
    if (row.hash === current) this.verified.remember(current, key, generation);
    return key;
  }
}
