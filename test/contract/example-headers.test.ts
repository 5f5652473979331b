// Every error example's headers agree with its body, as the server's answers do:
// a 401's WWW-Authenticate is the RFC 6750 challenge for the body's error (no
// error code for authentication_required, error="invalid_token" with the body's
// message otherwise), a 403 insufficient_scope names the scope its message names
// (and the other 403s carry no challenge), a 429 says X-RateLimit-Remaining: 0
// and a Retry-After that its message agrees with, and X-Request-Id is the body's
// request_id. The headers of an example are the ones the mock serves with it
// (src/mock/example-headers.ts: a header's example of the same name, else its one
// example).
import { describe, expect, test } from 'vitest';
import { errorExampleName, headersForExample } from '../../src/mock/example-headers.ts';
import {
  basicChallenge,
  bearerChallenge,
  insufficientScopeChallenge,
  invalidTokenChallenge,
} from '../../src/auth/www-authenticate.ts';
import { loadContractDocument } from '../support/contract-document.ts';

const contract = loadContractDocument();
const document = contract.raw;

/** 401 codes that are not about a presented bearer credential: the bare challenge (RFC 6750 section 3.1). */
const WITHOUT_ERROR_CODE = new Set(['authentication_required', 'invalid_credentials', 'invalid_refresh_token']);

interface Case {
  where: string;
  status: number;
  name: string;
  body: unknown;
  headers: Record<string, string | null>;
}

function header(headers: Record<string, string | null>, name: string): string | null | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

const cases: Case[] = [];
for (const operation of contract.operations()) {
  for (const [status, raw] of Object.entries(operation.responses)) {
    if (!/^[45]\d\d$/.test(status)) continue;
    const response = contract.resolve<{ content?: Record<string, { examples?: Record<string, unknown> }> }>(raw).value;
    for (const [mediaType, content] of Object.entries(response.content ?? {})) {
      if (!mediaType.includes('json')) continue;
      for (const [name, example] of Object.entries(content.examples ?? {})) {
        const body = contract.resolve<{ value?: unknown }>(example).value.value;
        if (errorExampleName(body) === undefined) continue; // not an error body (the health check's 503)
        cases.push({
          where: `${operation.operationId} ${status} ${name}`,
          status: Number(status),
          name,
          body,
          headers: headersForExample(document, raw, name),
        });
      }
    }
  }
}

describe("every error example's headers agree with its body", () => {
  test('there are examples of each kind to check', () => {
    for (const status of [401, 403, 429])
      expect(cases.filter((one) => one.status === status).length, `${status} examples`).toBeGreaterThan(10);
  });

  test.each(cases.map((one) => [one.where, one] as const))('%s', (_where, one) => {
    const envelope = (one.body as { error?: { code?: string; message?: string; request_id?: string } }).error;
    const code = errorExampleName(one.body);
    expect(code, 'the example is named after its error').toBe(one.name);
    const isEnvelope = typeof envelope === 'object';
    const message = isEnvelope
      ? (envelope.message ?? '')
      : ((one.body as { error_description?: string }).error_description ?? '');

    if (isEnvelope && envelope.request_id)
      expect(header(one.headers, 'X-Request-Id'), "X-Request-Id is the body's request_id").toBe(envelope.request_id);

    const challenge = header(one.headers, 'WWW-Authenticate');
    if (one.status === 401) {
      if (!isEnvelope) expect(challenge, "an OAuth 401 asks for the client's Basic credentials").toBe(basicChallenge());
      else if (WITHOUT_ERROR_CODE.has(one.name))
        expect(challenge, 'no credential was presented: the bare challenge').toBe(bearerChallenge());
      else
        expect(challenge, "the challenge names the error and describes it with the body's message").toBe(
          invalidTokenChallenge(message),
        );
    }
    if (one.status === 403 && isEnvelope) {
      if (one.name === 'insufficient_scope') {
        const scopes = /needs the (.+?) scopes?, which/.exec(message)?.[1]?.split(', ');
        expect(scopes, 'the message names the missing scope').toBeDefined();
        expect(challenge).toBe(insufficientScopeChallenge(scopes ?? []));
      } else {
        expect(challenge ?? null, 'only insufficient_scope carries a challenge').toBeNull();
      }
    }
    if (one.status === 429) {
      expect(header(one.headers, 'X-RateLimit-Remaining'), 'nothing is left of the limit that refused it').toBe('0');
      const retryAfter = Number(header(one.headers, 'Retry-After'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1, 'Retry-After in whole seconds').toBe(true);
      const said = /retry after (\d+) s/i.exec(message)?.[1];
      if (said !== undefined) expect(Number(said), 'the message and Retry-After agree').toBe(retryAfter);
    }
  });
});
