// The one error handler: every failure becomes the `/v1` error envelope, the
// OAuth `{error, error_description}` form on /oauth and /.well-known, or an HTML
// page on the browser-facing authorize endpoint. 5xx details are logged, never sent.
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  ApiError,
  DependencyUnavailableError,
  OAuthError,
  type ErrorCode,
  type OAuthErrorCode,
  type ValidationIssue,
} from '../errors.ts';
import type { RateLimitDecision } from '../rate-limit/index.ts';
import { applyRateLimitHeaders } from './rate-limit.ts';
import { contextOf, type RequestContext } from './request-context.ts';
import { renderErrorPage } from '../identity/error-page.ts';
import { bearerChallenge, insufficientScopeChallenge, invalidTokenChallenge } from '../auth/www-authenticate.ts';

const DOCS = 'https://docs.aetherflow.com/errors';

interface ValidatorError {
  status?: number;
  errors?: Array<{ path?: string; message?: string }>;
  message?: string;
}

/** Errors raised by body-parser (raw-body) carry a `type`. */
interface ParserError {
  type?: string;
  status?: number;
}

export interface ErrorHandlerOptions {
  /** The rate-limit standing an error answer of a rate-limited operation shows (src/http/rate-limit.ts). */
  rateLimitStanding?: (context: RequestContext, req: Request) => Promise<RateLimitDecision | null>;
}

export function errorHandler(logger: Logger, options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return async (error: unknown, req, res, _next) => {
    const context = contextOf(res);
    const apiError = toApiError(error);
    // A dependency's outage is logged once, where it is detected (src/dependencies/), not once per request.
    if (apiError.status >= 500 && apiError.code !== 'service_unavailable') {
      logger.error(
        { err: error, req_id: context.requestId, operation: context.operation?.operationId },
        'request failed',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (apiError.status < 500) await showStanding(req, res, context, options, logger);
    if (res.headersSent) return;
    const oauthForm = req.path.startsWith('/oauth/') || req.path.startsWith('/.well-known/');
    const htmlPage = req.path === '/oauth/authorize';

    for (const [name, value] of Object.entries(error instanceof OAuthError ? error.headers : apiError.headers))
      res.setHeader(name, value);

    if (htmlPage) {
      res
        .status(error instanceof OAuthError ? error.status : apiError.status)
        .type('html')
        .setHeader('Cache-Control', 'no-store');
      res.send(renderErrorPage(error instanceof OAuthError ? error.message : apiError.message, context.requestId));
      return;
    }
    if (oauthForm && (error instanceof OAuthError || apiError.code !== 'route_not_found')) {
      const oauth = error instanceof OAuthError ? error : toOAuthError(apiError);
      res.status(oauth.status).setHeader('Cache-Control', 'no-store');
      res.json({ error: oauth.error, error_description: oauth.message });
      return;
    }

    if (apiError.status === 401 && !res.getHeader('WWW-Authenticate')) {
      const openApi = context.operation?.operationId;
      const sessionEndpoint = openApi === 'login' || openApi === 'refreshSession';
      res.setHeader(
        'WWW-Authenticate',
        apiError.code === 'authentication_required' || sessionEndpoint
          ? bearerChallenge()
          : invalidTokenChallenge(apiError.message),
      );
    }
    if (apiError.code === 'insufficient_scope' && apiError.requiredScopes) {
      res.setHeader('WWW-Authenticate', insufficientScopeChallenge(apiError.requiredScopes));
    }
    res.status(apiError.status).json({
      success: false,
      error: {
        type: apiError.type,
        code: apiError.code,
        message: apiError.expose
          ? apiError.message
          : 'An unexpected error occurred on our side. Retry with backoff, and quote the request_id if it persists.',
        status: apiError.status,
        request_id: context.requestId,
        doc_url: `${DOCS}#${apiError.code}`,
        ...(apiError.details ? { details: apiError.details.slice(0, 100) } : {}),
      },
    });
  };
}

/** Every answer of a rate-limited operation below 500 shows its caller's standing, refused ones included. */
async function showStanding(
  req: Request,
  res: Response,
  context: RequestContext,
  options: ErrorHandlerOptions,
  logger: Logger,
): Promise<void> {
  if (!options.rateLimitStanding || res.getHeader('X-RateLimit-Limit') !== undefined) return;
  try {
    const decision = await options.rateLimitStanding(context, req);
    if (decision && !res.headersSent) applyRateLimitHeaders(res, decision);
  } catch (error) {
    // The counters' store failing must not turn a 4xx into something else; the answer goes without them.
    logger.warn(
      { err: { message: error instanceof Error ? error.message : String(error) }, req_id: context.requestId },
      'rate-limit standing unavailable for an error answer',
    );
  }
}

/**
 * The raw HTTP answer to a request Node's parser refused before Express saw it
 * (headers over the size limit, control characters, a malformed request line or
 * framing): the same error forms as above, chosen from the request line when it
 * could be read, with a request id, and `Connection: close` since the stream
 * cannot be trusted any further. See src/listen.ts.
 */
export function rawErrorResponse(path: string | null, error: ApiError, requestId: string): string {
  let contentType = 'application/json; charset=utf-8';
  let body: string;
  if (path === '/oauth/authorize') {
    contentType = 'text/html; charset=utf-8';
    body = renderErrorPage(error.message, requestId);
  } else if (path !== null && (path.startsWith('/oauth/') || path.startsWith('/.well-known/'))) {
    const oauth = toOAuthError(error);
    body = JSON.stringify({ error: oauth.error, error_description: oauth.message });
  } else {
    body = JSON.stringify({
      success: false,
      error: {
        type: error.type,
        code: error.code,
        message: error.message,
        status: error.status,
        request_id: requestId,
        doc_url: `${DOCS}#${error.code}`,
      },
    });
  }
  const reason = error.status === 404 ? 'Not Found' : 'Bad Request';
  return [
    `HTTP/1.1 ${error.status} ${reason}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Strict-Transport-Security: max-age=63072000; includeSubDomains',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Maps anything thrown to the catalogue: our errors as they are, the validator's and the parsers' by status. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DependencyUnavailableError) {
    return new ApiError(
      'service_unavailable',
      'The service is temporarily unavailable: retry after Retry-After seconds.',
      {
        headers: { 'Retry-After': String(error.retryAfterSeconds) },
        cause: error,
      },
    );
  }
  if (error instanceof OAuthError) {
    const code =
      error.status === 429
        ? 'rate_limit_exceeded'
        : error.status === 503
          ? 'service_unavailable'
          : error.status >= 500
            ? 'internal_error'
            : 'validation_failed';
    return new ApiError(code, error.message, { headers: error.headers });
  }
  const parser = error as ParserError;
  if (parser?.type === 'entity.parse.failed') return new ApiError('invalid_json', 'The body is not valid JSON.');
  if (parser?.type === 'entity.too.large')
    return new ApiError('payload_too_large', 'The body is larger than the limit.');
  if (parser?.type === 'charset.unsupported' || parser?.type === 'encoding.unsupported')
    return new ApiError('unsupported_media_type', 'The body encoding or charset is not supported: send UTF-8.');
  if (parser?.type === 'request.aborted' || parser?.type === 'request.size.invalid')
    return new ApiError('validation_failed', 'The request body was incomplete.');
  const validator = error as ValidatorError;
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: 'validation_failed',
    404: 'route_not_found',
    405: 'method_not_allowed',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
  };
  const code = typeof validator?.status === 'number' ? byStatus[validator.status] : undefined;
  if (code === 'validation_failed') {
    const details = (validator.errors ?? []).map(toIssue);
    return new ApiError('validation_failed', describeIssues(details), { details, cause: error });
  }
  if (code === 'unsupported_media_type')
    return new ApiError(code, "The body's Content-Type is not one this operation accepts: send application/json.");
  if (code) return new ApiError(code, validator.message ?? 'The request was refused.');
  return new ApiError('internal_error', 'internal error', { cause: error });
}

/** A validator problem as the envelope locates it (also the mock's wording, src/mock/). */
export function toIssue(item: { path?: string; message?: string }): ValidationIssue {
  // The validator says `/body/steps/0/type` or `.query.limit`; the envelope says `body.steps[0].type`.
  const parts = (item.path ?? '').split(/[/.]/).filter(Boolean);
  const location =
    parts.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`)).join('') || 'request';
  return { location: location.replace(/^headers\b/, 'header'), message: (item.message ?? 'is invalid').slice(0, 500) };
}

/** The envelope's message for a list of problems: the first, and how many more. */
export function describeIssues(details: ValidationIssue[]): string {
  const first = details[0];
  if (!first) return 'The request does not match the API contract.';
  const more =
    details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''}, see details)` : '';
  return `${first.location} ${first.message}${more}`.slice(0, 1000);
}

function toOAuthError(error: ApiError): OAuthError {
  const codes: Partial<Record<ErrorCode, OAuthErrorCode>> = {
    https_required: 'https_required',
    rate_limit_exceeded: 'rate_limit_exceeded',
    too_many_attempts: 'rate_limit_exceeded',
    internal_error: 'server_error',
    service_unavailable: 'temporarily_unavailable',
  };
  const oauth = codes[error.code] ?? 'invalid_request';
  const message = error.expose ? error.message : 'An unexpected error occurred on our side. Retry with backoff.';
  return new OAuthError(oauth, message, { status: error.status });
}
