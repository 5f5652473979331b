// What every answer to a bad request must be, whatever the request: never a 5xx,
// always an X-Request-Id, and the endpoint's own error form: the `/v1` envelope
// (also for /health and unknown paths), RFC 6749's `{error, error_description}`
// on /oauth/* and /.well-known/*, an HTML page (or a redirect back to a trusted
// app) on /oauth/authorize. Where the request reached an operation, the status
// must be one the operation documents and the answer must match the contract.
import type { ContractDocument } from '../support/contract-document.ts';
import type { RawAnswer, RawRequest } from '../support/raw-http.ts';

const REQUEST_ID = /^req_[0-9A-Za-z]{24}$/;

/** The path part of a raw target, as the server's router sees it. */
function pathOf(target: string): string {
  const path = target.split('?')[0] ?? '';
  return path.startsWith('/')
    ? path
    : (() => {
        try {
          return new URL(path).pathname;
        } catch {
          return path;
        }
      })();
}

export function isRejection(request: RawRequest, answer: RawAnswer): boolean {
  if (answer.status >= 400) return true;
  // The authorize endpoint reports errors to a trusted app by redirecting to it.
  return (
    pathOf(request.target) === '/oauth/authorize' &&
    answer.status === 302 &&
    /[?&]error=/.test(answer.header('location') ?? '')
  );
}

export function answerProblems(
  document: ContractDocument,
  request: RawRequest,
  answer: RawAnswer,
  forbiddenHeaders: string[] = [],
): string[] {
  const problems: string[] = [];
  const status = answer.status;
  if (status >= 500) problems.push(`answered ${status}: ${answer.text.slice(0, 300)}`);
  const requestId = answer.header('x-request-id');
  if (!requestId || !REQUEST_ID.test(requestId)) problems.push(`X-Request-Id is ${JSON.stringify(requestId)}`);
  for (const name of forbiddenHeaders)
    if (answer.headers.has(name)) problems.push(`the answer carries the injected header ${name}`);
  const path = pathOf(request.target);
  const contentType = answer.header('content-type') ?? '';
  const json = answer.json as Record<string, any> | undefined;

  if (path === '/oauth/authorize') {
    if (status >= 400 && !contentType.startsWith('text/html'))
      problems.push(`an authorize error is not an HTML page: ${contentType} ${answer.text.slice(0, 200)}`);
    if (status >= 300 && status < 400 && !answer.header('location')) problems.push('a redirect without Location');
  } else if (status >= 400) {
    const oauthForm = path.startsWith('/oauth/') || path.startsWith('/.well-known/');
    const envelope = json?.success === false && typeof json.error === 'object';
    if (oauthForm && !(envelope && json.error.code === 'route_not_found')) {
      problems.push(...document.validateAgainst('/components/schemas/OAuthError', json, 'OAuth error'));
    } else {
      problems.push(...document.validateAgainst('/components/schemas/Error', json, 'envelope'));
      if (envelope) {
        if (json.error.status !== status)
          problems.push(`envelope status ${json.error.status} differs from HTTP ${status}`);
        if (json.error.request_id !== requestId) problems.push('envelope request_id differs from X-Request-Id');
        if (status === 401 && !answer.header('www-authenticate')) problems.push('a 401 without WWW-Authenticate');
      }
    }
  }

  const operation = path.startsWith('/') ? document.matchOperation(request.method, path) : undefined;
  const unroutable =
    json?.error?.code === 'route_not_found' ||
    json?.error?.code === 'method_not_allowed' ||
    refusedByParser(answer.text);
  if (operation && !unroutable) {
    if (!document.isDocumentedStatus(operation.operationId, status)) {
      problems.push(`${operation.operationId} answered ${status}, which it does not document`);
    } else {
      const body = contentType.includes('json') ? answer.json : answer.text;
      problems.push(...document.validateBody(operation.operationId, status, contentType || null, body));
      const headers = Object.fromEntries([...answer.headers].map(([name, values]) => [name, values.join(', ')]));
      problems.push(...document.validateHeaders(operation.operationId, status, headers));
    }
  }
  return problems;
}

/**
 * Node's HTTP parser refused the bytes before any operation saw them (src/listen.ts answers
 * with these two messages only): the request reached no operation, so no operation's
 * documented headers apply to the answer; the envelope and request id still must.
 */
function refusedByParser(text: string): boolean {
  return /The request (is not well-formed HTTP\/1\.1|headers are larger than the server accepts)/.test(text);
}
