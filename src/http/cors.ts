// CORS, where the contract declares it and nowhere else. A path answers browser
// pages from other origins exactly when it has an `options` operation (the
// preflight): today only /v1/events, which a client key (`ck_`, events only) may
// call from a web page. Every other path has no OPTIONS operation, so its
// preflight is a 405 and the browser never sends the request.
//
// Any origin is allowed (`*`): the key decides what a request may do, and a page
// sends it in a header, never as a cookie, so no credentialed CORS is needed.
// What the answers say is read off the contract: the methods of the path, the
// headers its operations take, the headers their responses declare.
import type { RequestHandler } from 'express';
import type { Contract, ContractOperation } from '../contract/operations.ts';
import { resolveRef as resolve } from '../contract/resolve.ts';
import { contextOf } from './request-context.ts';

/** Response headers a page may read without being told (the CORS-safelisted ones). */
const SAFELISTED = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);

/** How long a browser may reuse a preflight answer, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface CorsPolicy {
  /** The headers of the answer to a preflight of this path. */
  preflight: Record<string, string>;
  /** The headers of every answer of the path's other operations. */
  response: Record<string, string>;
}

type Json = Record<string, unknown>;

/** The CORS policy of every path with a preflight operation, by path template. */
export function corsPolicies(contract: Contract): Map<string, CorsPolicy> {
  const policies = new Map<string, CorsPolicy>();
  const document = contract.document as Json;
  for (const preflight of contract.operations.filter((operation) => operation.method === 'options')) {
    const siblings = contract.operations.filter(
      (operation) => operation.path === preflight.path && operation !== preflight,
    );
    const requestHeaders = unique(siblings.flatMap((operation) => requestHeadersOf(document, operation)));
    const responseHeaders = unique(siblings.flatMap((operation) => responseHeadersOf(document, operation))).filter(
      (name) => !SAFELISTED.has(name.toLowerCase()) && !name.toLowerCase().startsWith('access-control-'),
    );
    policies.set(preflight.path, {
      preflight: {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': siblings.map((operation) => operation.method.toUpperCase()).join(', '),
        'Access-Control-Allow-Headers': requestHeaders.join(', '),
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      },
      response: {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers': responseHeaders.join(', '),
      },
    });
  }
  return policies;
}

/** Pipeline stage (after the operation is matched): CORS headers on every answer of a path that has a preflight. */
export function corsHeaders(contract: Contract): RequestHandler {
  const policies = corsPolicies(contract);
  return (_req, res, next) => {
    const operation = contextOf(res).operation;
    const policy = operation ? policies.get(operation.path) : undefined;
    if (policy && operation) {
      for (const [name, value] of Object.entries(operation.method === 'options' ? policy.preflight : policy.response))
        res.setHeader(name, value);
    }
    next();
  };
}

/** The credential headers of the operation's schemes, `Content-Type` when it takes a body, and its header parameters. */
function requestHeadersOf(document: Json, operation: ContractOperation): string[] {
  const raw = operationObject(document, operation);
  const schemes = ((document.components as Json | undefined)?.securitySchemes ?? {}) as Record<
    string,
    { type?: string; in?: string; name?: string }
  >;
  const headers: string[] = [];
  for (const name of operation.schemes) {
    const scheme = schemes[name];
    if (scheme?.type === 'apiKey' && scheme.in === 'header' && scheme.name) headers.push(scheme.name);
    else if (scheme?.type === 'http' || scheme?.type === 'oauth2') headers.push('Authorization');
  }
  if (raw.requestBody) headers.push('Content-Type');
  for (const parameter of (raw.parameters ?? []) as Json[]) {
    const resolved = resolve(document, parameter) as { in?: string; name?: string };
    if (resolved.in === 'header' && resolved.name) headers.push(resolved.name);
  }
  // Authorization first: the credential headers lead, as in the contract's description.
  return headers.sort((a, b) => Number(b === 'Authorization') - Number(a === 'Authorization'));
}

/** Every header any response of the operation declares, in the contract's order. */
function responseHeadersOf(document: Json, operation: ContractOperation): string[] {
  const raw = operationObject(document, operation);
  return Object.values((raw.responses ?? {}) as Record<string, Json>).flatMap((response) =>
    Object.keys((resolve(document, response).headers ?? {}) as Json),
  );
}

function operationObject(document: Json, operation: ContractOperation): Json {
  return (((document.paths as Json)[operation.path] as Json)[operation.method] ?? {}) as Json;
}

function unique(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = value.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
