// One error class for every failed call, carrying what the API said: the `/v1`
// envelope (`type`, `code`, `request_id`...), or an OAuth endpoint's RFC 6749 body.
// The client itself never throws on an HTTP error (openapi-fetch returns
// `{ data, error, response }`); `unwrap()` and the paginators throw this.
import type { ErrorCode, ErrorEnvelope, ErrorType, OAuthErrorBody, OAuthErrorCode, Schema } from './types.js';

export class AetherFlowError extends Error {
  override readonly name = 'AetherFlowError';
  /** The HTTP status. */
  readonly status: number;
  /**
   * What went wrong, exactly: an `ErrorCode` of the catalogue for `/v1`, the RFC 6749
   * `error` for the OAuth endpoints, `unknown_error` when the body was neither.
   * (The OAuth codes are any string; `& {}` keeps the catalogue's codes from being
   * absorbed into `string`, so editors still offer them.)
   */
  readonly code: ErrorCode | 'unknown_error' | (OAuthErrorCode & {});
  /** The kind of error (`/v1` only; `oauth_error` for the OAuth endpoints). */
  readonly type: ErrorType | 'oauth_error' | 'unknown_error';
  /** Quote it to support. From the envelope, else the `X-Request-Id` header. */
  readonly requestId: string | null;
  readonly docUrl: string | null;
  /** For `validation_failed`: each problem of the request. */
  readonly details: Schema<'ValidationIssue'>[];
  /** The `/v1` error envelope as received, when there was one. */
  readonly envelope: ErrorEnvelope | null;
  /** The OAuth endpoints' error body as received, when there was one. */
  readonly oauthError: OAuthErrorBody | null;
  /** `Retry-After` in seconds (429s, some 503s), else null. */
  readonly retryAfterSeconds: number | null;
  readonly response: Response;

  constructor(body: unknown, response: Response) {
    const envelope = isEnvelope(body) ? body : null;
    const oauthError = !envelope && isOAuthError(body) ? body : null;
    const message =
      envelope?.error.message ??
      oauthError?.error_description ??
      `HTTP ${response.status} ${response.statusText}`.trim();
    super(message);
    this.status = response.status;
    this.code = envelope?.error.code ?? oauthError?.error ?? 'unknown_error';
    this.type = envelope?.error.type ?? (oauthError ? 'oauth_error' : 'unknown_error');
    this.requestId = envelope?.error.request_id ?? response.headers.get('X-Request-Id');
    this.docUrl = envelope?.error.doc_url ?? oauthError?.error_uri ?? null;
    this.details = envelope?.error.details ?? [];
    this.envelope = envelope;
    this.oauthError = oauthError;
    const retryAfter = Number(response.headers.get('Retry-After'));
    this.retryAfterSeconds = response.headers.has('Retry-After') && Number.isFinite(retryAfter) ? retryAfter : null;
    this.response = response;
  }
}

/** True when `error` is an AetherFlowError, optionally with one of the given codes. */
export function isAetherFlowError(error: unknown, ...codes: AetherFlowError['code'][]): error is AetherFlowError {
  return error instanceof AetherFlowError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * The body of a successful openapi-fetch result, or an AetherFlowError thrown:
 * `const { data: workflow } = await unwrap(aetherflow.GET('/v1/workflows/{workflow_id}', ...))`.
 */
export async function unwrap<Data>(
  result:
    | Promise<{ data?: Data; error?: unknown; response: Response }>
    | { data?: Data; error?: unknown; response: Response },
): Promise<Data> {
  const { data, error, response } = await result;
  if (error !== undefined || !response.ok) throw new AetherFlowError(error, response);
  return data as Data;
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null) return false;
  const { success, error } = body as { success?: unknown; error?: unknown };
  return (
    success === false &&
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

function isOAuthError(body: unknown): body is OAuthErrorBody {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}
