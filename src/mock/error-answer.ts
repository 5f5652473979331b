// The mock's own error answers, in the forms the server uses for the same path:
// the `/v1` envelope, RFC 6749's `{error, error_description}` on /oauth and
// /.well-known (except an unknown path, which is the envelope everywhere), and the
// HTML page of the browser-facing authorize endpoint (src/http/error-handler.ts).
import { ERROR_CATALOGUE, type ErrorCode, type ValidationIssue } from '../errors.ts';
import { renderErrorPage } from '../identity/error-page.ts';
import { bearerChallenge } from '../auth/www-authenticate.ts';

const DOCS = 'https://docs.aetherflow.com/errors';

export interface MockAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** OAuth error codes for our codes, as the server's error handler maps them. */
const OAUTH_CODES: Partial<Record<ErrorCode, string>> = {
  https_required: 'https_required',
  rate_limit_exceeded: 'rate_limit_exceeded',
  too_many_attempts: 'rate_limit_exceeded',
  internal_error: 'server_error',
  service_unavailable: 'server_error',
};

export function errorAnswer(
  path: string,
  code: ErrorCode,
  message: string,
  options: { requestId: string; details?: ValidationIssue[]; headers?: Record<string, string> },
): MockAnswer {
  const { status, type } = ERROR_CATALOGUE[code];
  const headers: Record<string, string> = {
    'X-Request-Id': options.requestId,
    'Cache-Control': 'no-store',
    ...options.headers,
  };
  if (path === '/oauth/authorize') {
    return {
      status,
      headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
      body: renderErrorPage(message, options.requestId),
    };
  }
  const oauthForm = (path.startsWith('/oauth/') || path.startsWith('/.well-known/')) && code !== 'route_not_found';
  headers['Content-Type'] = 'application/json; charset=utf-8';
  if (oauthForm) {
    return {
      status,
      headers,
      body: JSON.stringify({ error: OAUTH_CODES[code] ?? 'invalid_request', error_description: message }),
    };
  }
  if (code === 'authentication_required' && !headers['WWW-Authenticate'])
    headers['WWW-Authenticate'] = bearerChallenge();
  const error = {
    type,
    code,
    message,
    status,
    request_id: options.requestId,
    doc_url: `${DOCS}#${code}`,
    ...(options.details ? { details: options.details.slice(0, 100) } : {}),
  };
  return { status, headers, body: JSON.stringify({ success: false, error }) };
}
