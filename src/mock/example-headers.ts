// Which headers go with which error example. A response lists several error
// examples (a 401: authentication_required, invalid_api_key, token_expired...)
// but a header can have only one value per answer, and Prism always serves a
// header's first example. So a header whose value depends on the error carries
// named `examples`, one per error example of the same name (WWW-Authenticate
// names the error of its body). For an answer whose body is the example `name`:
//
//   - a header with an example of that name takes its value;
//   - an optional header with named examples but none of that name is absent
//     (WWW-Authenticate on a 403 exists for insufficient_scope only);
//   - any other header keeps its one example.
//
// The mock applies this to what Prism serves, and the contract suite checks with
// it that every example's headers agree with its body.

import { resolveRef as resolve } from '../contract/resolve.ts';

type Json = Record<string, unknown>;

export interface HeaderObject {
  required?: boolean;
  /** A header's value: a scalar. */
  example?: string | number | boolean;
  examples?: Record<string, { value?: unknown; $ref?: string }>;
}

/**
 * The value of each declared header of `response` for the body example `name`: a
 * string, or null for "absent". With `onlyNamed`, only the headers whose value
 * depends on the example (the ones with named examples).
 */
export function headersForExample(
  document: Json,
  response: Json,
  name: string,
  onlyNamed = false,
): Record<string, string | null> {
  const headers = (resolve(document, response).headers ?? {}) as Record<string, Json>;
  const values: Record<string, string | null> = {};
  for (const [headerName, raw] of Object.entries(headers)) {
    const header = resolve(document, raw) as HeaderObject;
    const named = header.examples ? Object.entries(header.examples) : [];
    if (onlyNamed && named.length === 0) continue;
    const own = named.find(([exampleName]) => exampleName === name);
    if (own) values[headerName] = String(resolve(document, own[1]).value);
    else if (named.length > 0 && header.required !== true) values[headerName] = null;
    else if (header.example !== undefined) values[headerName] = String(header.example);
    else if (named[0]) values[headerName] = String(resolve(document, named[0][1]).value);
  }
  return values;
}

/** The name of the error example a body is: its envelope's `error.code`, or the OAuth `error`. */
export function errorExampleName(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
