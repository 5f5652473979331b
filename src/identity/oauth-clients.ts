// OAuth apps (clients): registration within the registering credential's reach
// (its scopes, and its allowlist and end, which the app and its tokens inherit:
// src/auth/reach.ts), exact redirect URIs, a secret for confidential apps shown once and kept
// as a keyed hash, and deletion that revokes everything issued to the app. Apps
// belong to a project and an environment, like API keys: an app registered with a
// test key acts on test data.
import type { components } from '../../generated/api.d.ts';
import type { Principal } from '../auth/principal.ts';
import { fenceFromStored, mayActOn, reachForNew, type Fence, type Reach } from '../auth/reach.ts';
import type { Scope } from '../auth/scopes.ts';
import { safeEqual, type KeyedHash } from '../crypto/keyed-hash.ts';
import { randomBase62, randomToken } from '../crypto/random.ts';
import type { OAuthClientRepository, OAuthClientRow } from '../db/repositories/oauth-clients.ts';
import type { Tx } from '../db/transaction.ts';
import { byCreation, decodeCursor, toPage, type Page } from '../domain/pagination.ts';
import type { Tenant } from '../tenant.ts';
import { iso, type Clock } from '../domain/time.ts';
import { ApiError, notFound } from '../errors.ts';
import type { TokenFamilies } from './token-families.ts';

export type OAuthClientView = components['schemas']['OAuthClient'];
export type OAuthClientWithSecret = components['schemas']['OAuthClientWithSecret'];
export type OAuthClientCreate = components['schemas']['OAuthClientCreate'];
export type GrantType = components['schemas']['OAuthGrantType'];
export type ClientRow = OAuthClientRow;

export interface OAuthClient {
  id: string;
  accountId: string;
  projectId: string;
  environment: 'live' | 'test';
  name: string;
  type: 'confidential' | 'public';
  redirectUris: string[];
  scopes: Scope[];
  grantTypes: GrantType[];
  authMethod: OAuthClientRow['token_endpoint_auth_method'];
  secretHash: string | null;
  /** Where its tokens may be requested and used from, and until when (the registering credential's). */
  fence: Fence;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function invalid(location: string, message: string): ApiError {
  return new ApiError('validation_failed', `${location} ${message}`, { details: [{ location, message }] });
}

/** The contract's pattern already holds these; checked again here because a redirect URI is a security boundary. */
function checkRedirectUri(uri: string, index: number): void {
  const location = `body.redirect_uris[${index}]`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid(location, 'must be an absolute URI');
  }
  if (uri.includes('#') || uri.includes('*')) throw invalid(location, 'must have no fragment and no wildcard');
  if (url.username || url.password) throw invalid(location, 'must not carry user information');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  throw invalid(location, 'must use https://, or http:// on a loopback host (127.0.0.1, [::1], localhost)');
}

export class OAuthClientService {
  constructor(
    private readonly repository: OAuthClientRepository,
    private readonly hash: KeyedHash,
    private readonly families: TokenFamilies,
    private readonly clock: Clock,
  ) {}

  // create and delete take the unit of work of their audit entry (handlers/oauth-clients.ts).
  async create(principal: Principal, input: OAuthClientCreate, tx: Tx): Promise<OAuthClientWithSecret> {
    const grantTypes: GrantType[] = [
      ...new Set<GrantType>(input.grant_types ?? ['authorization_code', 'refresh_token']),
    ];
    const authMethod =
      input.token_endpoint_auth_method ?? (input.client_type === 'public' ? 'none' : 'client_secret_basic');
    if (input.client_type === 'public' && authMethod !== 'none')
      throw invalid('body.token_endpoint_auth_method', 'must be none for a public app');
    if (input.client_type === 'confidential' && authMethod === 'none')
      throw invalid(
        'body.token_endpoint_auth_method',
        'must be client_secret_basic or client_secret_post for a confidential app',
      );
    if (input.client_type === 'public' && grantTypes.includes('client_credentials'))
      throw invalid('body.grant_types', 'must not include client_credentials for a public app');
    if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code'))
      throw invalid('body.grant_types', 'must include authorization_code when it includes refresh_token');
    input.redirect_uris.forEach(checkRedirectUri);
    const scopes = [...new Set(input.scopes)];
    // The app reaches no further than its registering credential, and keeps its fence:
    // an address-bound or expiring key cannot escape its limits through an app's tokens.
    const reach = reachForNew(principal, { scopes });

    const secret = input.client_type === 'confidential' ? randomToken(32) : null;
    const row = await this.repository.insert(
      principal,
      {
        id: `cli_${randomBase62(24)}`,
        account_id: principal.accountId,
        name: input.name,
        client_type: input.client_type,
        redirect_uris: JSON.stringify([...new Set(input.redirect_uris)]),
        scopes: JSON.stringify(scopes),
        grant_types: JSON.stringify(grantTypes),
        token_endpoint_auth_method: authMethod,
        secret_hash: secret === null ? null : this.hash(secret),
        allowed_ips: JSON.stringify(reach.allowedIps.map((cidr) => cidr.text)),
        expires_at: reach.notAfter === null ? null : iso(reach.notAfter),
        created_at: iso(this.clock()),
        deleted_at: null,
      },
      tx,
    );
    return { ...view(row), client_secret: secret };
  }

  async list(tenant: Tenant, limit: number, cursor: string | undefined): Promise<Page<OAuthClientView>> {
    const position = decodeCursor('oauth_clients', cursor);
    const rows = await this.repository.page(tenant, position, limit + 1);
    return toPage('oauth_clients', rows, limit, view, byCreation);
  }

  async get(tenant: Tenant, id: string): Promise<OAuthClientView> {
    const row = await this.repository.find(tenant, id);
    if (!row) throw notFound('OAuth app');
    return view(row);
  }

  /**
   * Deletes the app and revokes every grant and token it holds, in one unit: a deletion
   * that rolls back leaves the app and its tokens working, and the caches hear of the
   * revocations only once it has committed.
   */
  async delete(principal: Principal, id: string, tx: Tx): Promise<{ revokedGrants: number }> {
    const tenant: Tenant = { projectId: principal.projectId, environment: principal.environment };
    const row = await this.repository.findIn(tenant, id, tx);
    if (!row) throw notFound('OAuth app');
    mayActOn(principal, reachOfApp(row), 'delete', `app ${id}`);
    await this.repository.softDelete(tenant, id, iso(this.clock()), tx);
    const revokedGrants = await this.families.revokeAllOf({ clientId: id }, 'client_deleted', tx);
    return { revokedGrants };
  }

  /**
   * A registered, undeleted app by client_id (the OAuth endpoints), or null. An app whose
   * registering credential has expired has ended with it: to the OAuth endpoints it no
   * longer exists.
   */
  async byClientId(clientId: string): Promise<OAuthClient | null> {
    const row = await this.repository.byClientId(clientId);
    if (!row || (row.expires_at !== null && Date.parse(row.expires_at) <= this.clock())) return null;
    return toClient(row);
  }

  secretMatches(client: OAuthClient, secret: string): boolean {
    const stored = client.secretHash;
    // Every candidate is compared, so the time taken does not depend on which one matches.
    return (
      stored !== null &&
      this.hash
        .candidates(secret)
        .map((hash) => safeEqual(hash, stored))
        .includes(true)
    );
  }
}

function view(row: ClientRow): OAuthClientView {
  return {
    client_id: row.id,
    name: row.name,
    client_type: row.client_type,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    scopes: JSON.parse(row.scopes) as Scope[],
    grant_types: JSON.parse(row.grant_types) as GrantType[],
    token_endpoint_auth_method: row.token_endpoint_auth_method,
    allowed_ips: JSON.parse(row.allowed_ips) as string[],
    expires_at: row.expires_at,
    created_at: row.created_at,
  };
}

/** What a registered app reaches: what a caller must reach at least to delete it. */
function reachOfApp(row: ClientRow): Reach {
  return {
    projectId: row.project_id,
    environments: [row.environment],
    scopes: JSON.parse(row.scopes) as string[],
    ...fenceFromStored(row.allowed_ips, row.expires_at),
  };
}

function toClient(row: ClientRow): OAuthClient {
  return {
    id: row.id,
    accountId: row.account_id,
    projectId: row.project_id,
    environment: row.environment,
    name: row.name,
    type: row.client_type,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    scopes: JSON.parse(row.scopes) as Scope[],
    grantTypes: JSON.parse(row.grant_types) as GrantType[],
    authMethod: row.token_endpoint_auth_method,
    secretHash: row.secret_hash,
    fence: fenceFromStored(row.allowed_ips, row.expires_at),
  };
}
