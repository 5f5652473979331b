// The mock's front door: every request meets it before Prism, and every answer
// leaves through it. Prism serves the contract's examples and validates requests,
// but it answers what it refuses with one canned example (the real reasons only
// in its `sl-violations` header), answers unknown paths and methods in its own
// problem+json, and knows nothing of our credential rules or CORS. The front
// makes those answers the server's:
//
//   unknown path / method     -> 404 route_not_found / 405 method_not_allowed (+ Allow)
//   credential headers        -> the server's 401 authentication_required reasons, or
//                                400 for two credentials (secured operations)
//   oversized body, not JSON, -> 413 payload_too_large, 400 invalid_json,
//   undeclared query parameter   400 validation_failed (Prism drops those unseen)
//   Prism's refusals          -> the envelope with every reason in `details`
//   examples served           -> headers that agree with the body's error (see
//                                example-headers.ts); insufficient_scope names the
//                                operation's own scopes
//   CORS                      -> exactly the server's (src/http/cors.ts): only paths
//                                with a preflight operation, i.e. POST /v1/events
//
// It reads nothing of Prism but its documented command line and HTTP answers.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { requiredScopes, type Contract, type ContractOperation } from '../contract/operations.ts';
import { resolveRef } from '../contract/resolve.ts';
import { newId } from '../domain/ids.ts';
import { corsPolicies } from '../http/cors.ts';
import { insufficientScopeChallenge } from '../auth/www-authenticate.ts';
import { credentialProblem } from './credential-problem.ts';
import { errorAnswer, type MockAnswer } from './error-answer.ts';
import { errorExampleName, headersForExample } from './example-headers.ts';
import { describeIssues, issuesOf, parseViolations, type Violation } from './violations.ts';
import type { ValidationIssue } from '../errors.ts';
import { toIssue } from '../http/error-handler.ts';
import { bodyExplainer, jsonBodySchema, type BodyExplainer, type BodyProblem } from '../http/validation-problems.ts';

type Json = Record<string, unknown>;

export interface MockFrontOptions {
  contract: Contract;
  /** Where Prism listens, e.g. `http://127.0.0.1:41234`. */
  prismUrl: string;
  /** As the server's BODY_LIMIT_BYTES default: larger bodies get 413. */
  bodyLimitBytes?: number;
}

/** Headers that belong to one hop, or that the front recomputes. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
  'host',
  'expect',
  'upgrade',
  'proxy-connection',
]);

export function mockFront(options: MockFrontOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { contract } = options;
  const document = contract.document as Json;
  const cors = corsPolicies(contract);
  const limit = options.bodyLimitBytes ?? 1_048_576;
  const prism = new URL(options.prismUrl);
  // The server's own account of a refused body (every problem, its wording), for Prism's refusals.
  const explain = bodyExplainer(document);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const path = url.pathname;
    const requestId = newId('req');

    const match = contract.match(method, path);
    if (match === null) {
      return send(
        res,
        errorAnswer(path, 'route_not_found', 'No operation has this path: check the URL against the API reference.', {
          requestId,
        }),
      );
    }
    if ('allowed' in match) {
      const allowed = match.allowed.join(', ');
      return send(
        res,
        errorAnswer(path, 'method_not_allowed', `This path does not accept ${method}; it accepts ${allowed}.`, {
          requestId,
          headers: { Allow: allowed },
        }),
      );
    }
    const operation = match.operation;
    const policy = cors.get(operation.path);
    const corsHeaders = policy ? (operation.method === 'options' ? policy.preflight : policy.response) : {};
    // Every error answer carries what its response declares (the rate-limit headers of a 401, say).
    const reply = (answer: MockAnswer): void => {
      const complete = answer.status >= 400 ? withExampleHeaders(document, operation, answer) : answer;
      send(res, { ...complete, headers: merged(complete.headers, corsHeaders) });
    };

    const body = await readBody(req, limit);
    if (body === null)
      return reply(errorAnswer(path, 'payload_too_large', 'The body is larger than the limit.', { requestId }));

    if (!operation.isPublic) {
      const problem = credentialProblem({
        authorization: header(req.headers, 'authorization'),
        'x-api-key': header(req.headers, 'x-api-key'),
      });
      if (problem)
        return reply(
          errorAnswer(path, problem.code, problem.message, {
            requestId,
            ...(problem.details ? { details: problem.details } : {}),
          }),
        );
    }
    if (body.length > 0 && /^application\/([\w.+-]+\+)?json\b/i.test(header(req.headers, 'content-type') ?? '')) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        return reply(errorAnswer(path, 'invalid_json', 'The body is not valid JSON.', { requestId }));
      }
    }
    const unknown = undeclaredQueryParameters(document, operation, url.searchParams);
    if (unknown.length > 0) {
      const details = unknown.map((name) => ({
        location: `query.${name}`,
        message: `Unknown query parameter '${name}'`,
      }));
      return reply(errorAnswer(path, 'validation_failed', describeIssues(details), { requestId, details }));
    }

    const answer = await forward(prism, req, method, body);
    reply(rewrite(document, operation, path, answer, requestId, { explain, body }));
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = `The mock could not answer: ${error instanceof Error ? error.message : String(error)}`;
      if (!res.headersSent)
        send(
          res,
          errorAnswer(new URL(req.url ?? '/', 'http://mock.invalid').pathname, 'internal_error', message, {
            requestId: newId('req'),
          }),
        );
      else res.destroy();
    });
  };
}

/** Prism's answer as the server would give it. */
function rewrite(
  document: Json,
  operation: ContractOperation,
  path: string,
  answer: MockAnswer,
  requestId: string,
  sent: { explain: BodyExplainer; body: Buffer },
): MockAnswer {
  const headers = Object.fromEntries(
    Object.entries(answer.headers).filter(
      ([name]) => !HOP_HEADERS.has(name) && name !== 'sl-violations' && name !== 'content-type',
    ),
  );
  // Prism also reports what it finds wrong with its own answer (location "response"): only the request's count.
  const violations = parseViolations(answer.headers['sl-violations']).filter(
    (violation) => violation.location[0] === 'request',
  );
  const contentType = answer.headers['content-type'] ?? '';

  if (answer.status >= 400 && violations.length > 0) {
    let refused: MockAnswer;
    if (answer.status === 401) {
      refused = errorAnswer(
        path,
        'authentication_required',
        'This operation needs a credential: send an API key or an access token as "Authorization: Bearer <credential>".',
        { requestId },
      );
    } else if (answer.status === 415) {
      refused = errorAnswer(
        path,
        'unsupported_media_type',
        "The body's Content-Type is not one this operation accepts: send application/json.",
        { requestId },
      );
    } else {
      const details = inServerWords(document, operation, violations, sent);
      refused = errorAnswer(
        path,
        'validation_failed',
        details.length > 0
          ? describeIssues(details)
          : violations
              .map((v) => v.message)
              .join('; ')
              .slice(0, 1000),
        {
          requestId,
          ...(details.length > 0 ? { details } : {}),
        },
      );
    }
    return withExampleHeaders(document, operation, { ...refused, headers: merged(headers, refused.headers) });
  }

  if (/^application\/problem\+json/i.test(contentType)) {
    // Prism's own errors (a schema it cannot make data from, with `Prefer: dynamic=true`).
    const problem = safeJson(answer.body) as { title?: string; detail?: string } | undefined;
    const reason = [problem?.title, problem?.detail].filter(Boolean).join(': ') || `Prism answered ${answer.status}`;
    return errorAnswer(path, 'internal_error', `The mock could not make up this answer: ${reason}`.slice(0, 1000), {
      requestId,
    });
  }

  const served = { ...answer, headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) } };
  return answer.status >= 400 ? withExampleHeaders(document, operation, served) : served;
}

/**
 * The problems of a refused request as the server lists them: the body's walked by the
 * server's own explainer (every problem, in its wording), the rest from Prism's reasons.
 */
function inServerWords(
  document: Json,
  operation: ContractOperation,
  violations: Violation[],
  sent: { explain: BodyExplainer; body: Buffer },
): ValidationIssue[] {
  const issues = issuesOf(violations);
  const schema = jsonBodySchema(document, operation.path, operation.method);
  const body = sent.body.length > 0 ? safeJson(sent.body.toString('utf8')) : undefined;
  if (!schema || body === undefined || !issues.some((issue) => issue.location.startsWith('body'))) return issues;
  let problems: BodyProblem[];
  try {
    problems = sent.explain(schema, body);
  } catch {
    return issues;
  }
  if (problems.length === 0) return issues;
  return [...issues.filter((issue) => !issue.location.startsWith('body')), ...problems.map(toIssue)];
}

/**
 * The headers of an error answer made to agree with its body (example-headers.ts),
 * and an insufficient_scope that names the operation's own scopes, as the server does.
 */
function withExampleHeaders(document: Json, operation: ContractOperation, answer: MockAnswer): MockAnswer {
  const body = safeJson(answer.body) as { error?: Json } | undefined;
  const name = errorExampleName(body);
  const response = responseObject(document, operation, answer.status);
  if (!name || !response) return answer;
  let headers = { ...answer.headers };
  for (const [headerName, value] of Object.entries(headersForExample(document, response, name, true))) {
    headers = merged(headers, { [headerName]: value });
  }
  // Declared headers the answer lacks (the mock's own refusals have no Prism headers) take their example.
  const present = new Set(Object.keys(headers).map((headerName) => headerName.toLowerCase()));
  for (const [headerName, value] of Object.entries(headersForExample(document, response, name))) {
    if (value !== null && !present.has(headerName.toLowerCase())) headers[headerName] = value;
  }
  let text = answer.body;
  if (name === 'insufficient_scope' && body?.error) {
    const scopes = requiredScopes(operation, 'BearerAuth');
    if (scopes.length > 0) {
      body.error.message = insufficientScopeMessage(scopes);
      text = JSON.stringify(body);
      headers = merged(headers, { 'WWW-Authenticate': insufficientScopeChallenge(scopes) });
    }
  }
  return { ...answer, headers, body: text };
}

/** The server's message for a credential that holds none of `scopes` (src/http/authorize.ts). */
export function insufficientScopeMessage(scopes: string[]): string {
  return `This operation needs the ${scopes.join(', ')} scope${scopes.length > 1 ? 's' : ''}, which this credential does not hold.`;
}

function responseObject(document: Json, operation: ContractOperation, status: number): Json | undefined {
  const raw = ((document.paths as Json)[operation.path] as Json)[operation.method] as { responses?: Json };
  const responses = raw.responses ?? {};
  const response = (responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default) as
    Json | undefined;
  return response ? resolveRef(document, response) : undefined;
}

function undeclaredQueryParameters(document: Json, operation: ContractOperation, query: URLSearchParams): string[] {
  const raw = ((document.paths as Json)[operation.path] as Json)[operation.method] as Json;
  if (raw['x-eov-allow-unknown-query-parameters'] === true) return [];
  const declared = new Set(
    ((raw.parameters ?? []) as Json[])
      .map((parameter) => resolveRef(document, parameter) as { in?: string; name?: string })
      .filter((parameter) => parameter.in === 'query')
      .map((parameter) => parameter.name),
  );
  return [...new Set(query.keys())].filter((name) => !declared.has(name));
}

function forward(prism: URL, req: IncomingMessage, method: string, body: Buffer): Promise<MockAnswer> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
  if (body.length > 0) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: prism.hostname, port: prism.port, method, path: req.url, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const answerHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers))
            if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({
            status: response.statusCode ?? 502,
            headers: answerHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The whole body, or null once it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `base` with `overrides` applied, header names compared without case; a null override removes the header. */
function merged(base: Record<string, string>, overrides: Record<string, string | null>): Record<string, string> {
  const result = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    for (const existing of Object.keys(result))
      if (existing.toLowerCase() === name.toLowerCase()) delete result[existing];
    if (value !== null) result[name] = value;
  }
  return result;
}

function send(res: ServerResponse, answer: MockAnswer): void {
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.statusCode = answer.status;
  res.end(answer.body);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
