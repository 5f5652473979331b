// The tables, as Kysely sees them. Portable types only, so the same migrations
// and queries run on SQLite and PostgreSQL: ids and timestamps are text (RFC 3339
// UTC with milliseconds, which sorts as it reads), JSON is text, counters integers.
export interface AccountsTable {
  id: string;
  name: string;
  plan: 'free' | 'pro' | 'enterprise';
  created_at: string;
}

export interface ProjectsTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: 'owner' | 'admin' | 'member';
  default_project_id: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  project_id: string;
  environment: 'live' | 'test';
  type: 'secret' | 'restricted' | 'client' | 'legacy';
  name: string;
  /** JSON array of scopes. */
  scopes: string;
  /** JSON array of CIDR strings. */
  allowed_ips: string;
  expires_at: string | null;
  prefix: string;
  last4: string;
  created_at: string;
  revoked_at: string | null;
  previous_secret_expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
}

/** Every secret a key has had: the current one (expires_at null) and rotated ones in their grace period. */
export interface ApiKeySecretsTable {
  /** Keyed hash (HMAC-SHA-256 under the server's hash secret), hex. */
  hash: string;
  key_id: string;
  expires_at: string | null;
  created_at: string;
}

export interface WorkflowsTable {
  id: string;
  project_id: string;
  environment: 'live' | 'test';
  name: string;
  description: string | null;
  status: 'active' | 'paused';
  trigger_type: 'manual' | 'event';
  event_type: string | null;
  /** JSON: the steps. */
  steps: string;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface RunsTable {
  id: string;
  project_id: string;
  environment: 'live' | 'test';
  workflow_id: string;
  workflow_version: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  trigger_type: 'manual' | 'event' | 'retry';
  event_id: string | null;
  /** JSON objects. */
  input: string;
  event_data: string | null;
  output: string | null;
  /** JSON: the steps as they were when the run started (what it executes). */
  definition: string;
  /** JSON: RunStepResult[]. */
  step_results: string;
  /** JSON: the variables so far, so an interrupted run resumes where it was. */
  variables: string;
  error: string | null;
  retry_of: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The instance executing the run, and until when its claim holds unless renewed. */
  lease_owner: string | null;
  lease_expires_at: string | null;
}

export interface ConnectionsTable {
  id: string;
  project_id: string;
  environment: 'live' | 'test';
  name: string;
  provider: string;
  auth_type: 'api_key' | 'bearer' | 'basic' | 'oauth2';
  /** JSON array of the credential field names (never their values). */
  credential_fields: string;
  /** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  credentials_encrypted: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface EventsTable {
  id: string;
  project_id: string;
  environment: 'live' | 'test';
  type: string;
  data: string;
  occurred_at: string | null;
  received_at: string;
  triggered_runs: string;
}

export interface AuditLogsTable {
  id: string;
  account_id: string | null;
  project_id: string | null;
  environment: 'live' | 'test' | null;
  occurred_at: string;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  actor_type: 'user' | 'api_key' | 'oauth_client' | 'anonymous' | 'system';
  actor_id: string | null;
  actor_key_id: string | null;
  actor_user_id: string | null;
  actor_client_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  ip: string;
  user_agent: string | null;
  request_id: string;
  metadata: string;
}

export interface IdempotencyKeysTable {
  /** sha-256 of (project, environment, principal, operation, key): the caller's own namespace. */
  scope_hash: string;
  /** sha-256 of the request (method, path, body) the key was first used with. */
  request_hash: string;
  state: 'in_progress' | 'done';
  response_status: number | null;
  response_body: string | null;
  response_headers: string | null;
  created_at: string;
  expires_at: string;
}

/**
 * A key that signs access tokens. Published in the JWKS from creation; signs from
 * `activates_at` until its successor activates (`retired_at`); verifies until the
 * tokens it signed have expired.
 */
export interface SigningKeysTable {
  kid: string;
  algorithm: 'ES256';
  /** JSON: the public JWK (kty, crv, x, y). */
  public_jwk: string;
  /** AES-256-GCM of the PKCS#8 PEM, with the kid as associated data. */
  private_key_encrypted: string;
  created_at: string;
  activates_at: string;
  retired_at: string | null;
}

/**
 * What refresh tokens descend from and access tokens belong to (their `sid`): a
 * login session, an app's authorization by a user, or an app's own client
 * credentials. Revoking it revokes every token of it.
 */
export interface TokenFamiliesTable {
  id: string;
  kind: 'session' | 'authorization_code' | 'client_credentials';
  account_id: string;
  project_id: string;
  environment: 'live' | 'test';
  user_id: string | null;
  client_id: string | null;
  /** JSON array: the most any token of the family may hold. */
  scopes: string;
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  /** Keyed hash of the token; the token itself is never stored. */
  hash: string;
  family_id: string;
  created_at: string;
  expires_at: string;
  /** Set when it was traded for a new pair: presenting it again is a reuse. */
  used_at: string | null;
}

/** Revoked access-token ids (`jti`) and family ids (`sid`), kept until no token naming them can still be valid. */
export interface RevokedTokensTable {
  id: string;
  expires_at: string;
}

export interface OAuthClientsTable {
  id: string;
  account_id: string;
  project_id: string;
  environment: 'live' | 'test';
  name: string;
  client_type: 'confidential' | 'public';
  /** JSON arrays. */
  redirect_uris: string;
  scopes: string;
  grant_types: string;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Keyed hash of the client secret; null for public apps. */
  secret_hash: string | null;
  /** The registering credential's fence (src/auth/reach.ts): a JSON array of CIDR networks, and its end or null. */
  allowed_ips: string;
  expires_at: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface AuthorizationCodesTable {
  /** Keyed hash of the code. */
  hash: string;
  client_id: string;
  user_id: string;
  account_id: string;
  project_id: string;
  environment: 'live' | 'test';
  redirect_uri: string;
  /** 1 when the authorization request named redirect_uri (the token request must then repeat it). */
  redirect_uri_sent: number;
  scopes: string;
  code_challenge: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The family its exchange created, revoked if the code is replayed. */
  family_id: string | null;
}

/** A signed-in user of the login and consent pages, by keyed hash of the cookie value. */
export interface OAuthBrowserSessionsTable {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface Database {
  accounts: AccountsTable;
  projects: ProjectsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  api_key_secrets: ApiKeySecretsTable;
  workflows: WorkflowsTable;
  runs: RunsTable;
  connections: ConnectionsTable;
  events: EventsTable;
  audit_logs: AuditLogsTable;
  idempotency_keys: IdempotencyKeysTable;
  signing_keys: SigningKeysTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  revoked_tokens: RevokedTokensTable;
  oauth_clients: OAuthClientsTable;
  authorization_codes: AuthorizationCodesTable;
  oauth_browser_sessions: OAuthBrowserSessionsTable;
}
