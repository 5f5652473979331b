// The one error hierarchy. Every failure the API reports is an ApiError with a
// code from the contract's catalogue; the error handler (src/http/error-handler.ts)
// is the only place that turns it into the envelope. The catalogue below must
// equal the contract's `x-error-catalogue` (test/errors.test.ts checks it), so a
// code's type and status live in the contract and are merely mirrored here.
import type { components } from '../generated/api.d.ts';

export type ErrorCode = components['schemas']['ErrorCode'];
export type ErrorType = components['schemas']['ErrorType'];
export type ValidationIssue = components['schemas']['ValidationIssue'];

export const ERROR_CATALOGUE: Readonly<Record<ErrorCode, { type: ErrorType; status: number }>> = {
  authentication_required: { type: 'authentication_error', status: 401 },
  invalid_api_key: { type: 'authentication_error', status: 401 },
  expired_api_key: { type: 'authentication_error', status: 401 },
  revoked_api_key: { type: 'authentication_error', status: 401 },
  invalid_token: { type: 'authentication_error', status: 401 },
  token_expired: { type: 'authentication_error', status: 401 },
  token_revoked: { type: 'authentication_error', status: 401 },
  invalid_credentials: { type: 'authentication_error', status: 401 },
  invalid_refresh_token: { type: 'authentication_error', status: 401 },
  insufficient_scope: { type: 'authorization_error', status: 403 },
  ip_not_allowed: { type: 'authorization_error', status: 403 },
  https_required: { type: 'authorization_error', status: 403 },
  scope_escalation: { type: 'authorization_error', status: 403 },
  environment_mismatch: { type: 'authorization_error', status: 403 },
  credential_out_of_reach: { type: 'authorization_error', status: 403 },
  validation_failed: { type: 'invalid_request_error', status: 400 },
  multiple_credentials: { type: 'invalid_request_error', status: 400 },
  invalid_json: { type: 'invalid_request_error', status: 400 },
  invalid_cursor: { type: 'invalid_request_error', status: 400 },
  invalid_workflow_definition: { type: 'invalid_request_error', status: 400 },
  invalid_scope: { type: 'invalid_request_error', status: 400 },
  method_not_allowed: { type: 'invalid_request_error', status: 405 },
  payload_too_large: { type: 'invalid_request_error', status: 413 },
  unsupported_media_type: { type: 'invalid_request_error', status: 415 },
  not_found: { type: 'not_found_error', status: 404 },
  route_not_found: { type: 'not_found_error', status: 404 },
  idempotency_conflict: { type: 'conflict_error', status: 409 },
  idempotency_in_progress: { type: 'conflict_error', status: 409 },
  run_not_cancellable: { type: 'conflict_error', status: 409 },
  run_not_retryable: { type: 'conflict_error', status: 409 },
  workflow_not_active: { type: 'conflict_error', status: 409 },
  api_key_revoked: { type: 'conflict_error', status: 409 },
  rate_limit_exceeded: { type: 'rate_limit_error', status: 429 },
  too_many_attempts: { type: 'rate_limit_error', status: 429 },
  internal_error: { type: 'api_error', status: 500 },
  service_unavailable: { type: 'api_error', status: 503 },
};

export interface ApiErrorOptions {
  details?: ValidationIssue[];
  /** Response headers that belong to this error (Retry-After, Allow...). */
  headers?: Record<string, string>;
  /** For insufficient_scope: the scopes the operation needs, named in WWW-Authenticate. */
  requiredScopes?: string[];
  cause?: unknown;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly status: number;
  /** 5xx messages are replaced by a generic one: they may carry internals. */
  readonly expose: boolean;
  readonly details: ValidationIssue[] | undefined;
  readonly headers: Record<string, string>;
  readonly requiredScopes: string[] | undefined;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    const entry = ERROR_CATALOGUE[code];
    this.code = code;
    this.type = entry.type;
    this.status = entry.status;
    // A 503's message is ours and says only what to do; other 5xx messages may carry internals.
    this.expose = entry.status < 500 || code === 'service_unavailable';
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.requiredScopes = options.requiredScopes;
  }
}

/** The dependencies whose faults a request can meet. */
export type DependencyName = 'database' | 'redis';

/**
 * A dependency is down or did not answer within its deadline (src/dependencies/).
 * Raised at the boundary where the server calls it, never with the dependency's own
 * message as the message (it may name hosts); the error handler answers it
 * `503 service_unavailable` with `Retry-After`.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: DependencyName,
    readonly retryAfterSeconds: number,
    options: { cause?: unknown; reason?: string } = {},
  ) {
    super(
      `${dependency} unavailable${options.reason ? `: ${options.reason}` : ''}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'DependencyUnavailableError';
  }
}

export const notFound = (what: string): ApiError =>
  new ApiError('not_found', `No ${what} with this id exists in this project and environment.`);

/** RFC 6749 error codes of the OAuth protocol endpoints (and our two extensions). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'https_required'
  | 'rate_limit_exceeded'
  | 'server_error'
  | 'temporarily_unavailable';

const OAUTH_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  unsupported_token_type: 400,
  https_required: 403,
  rate_limit_exceeded: 429,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** An error of /oauth/* and /.well-known/*, answered as `{error, error_description}`. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    error: OAuthErrorCode,
    description: string,
    options: { headers?: Record<string, string>; status?: number; cause?: unknown } = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.error = error;
    this.status = options.status ?? OAUTH_STATUS[error];
    this.headers = options.headers ?? {};
  }
}
