// Every request example of the contract is real: sent to the server as written,
// it gets the documented answer (a documented 2XX or 3XX whose body and headers
// are as documented). Where an example names something the server makes (an id, a
// token, a code), the test makes it first and sends the real one in its place
// (test/support/example-world.ts); the cursor, filters, names, scopes, the PKCE
// verifier and the login are sent as the examples write them.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadContractDocument } from '../support/contract-document.ts';
import { exampleBody, examplePath, exampleRequests } from '../support/example-requests.ts';
import { authorizationOf, startExampleWorld, substitute, type ExampleWorld } from '../support/example-world.ts';

const contract = loadContractDocument();
const requests = exampleRequests(contract);
let world: ExampleWorld;

beforeAll(async () => {
  world = await startExampleWorld();
}, 60_000);
afterAll(async () => {
  await world?.close();
});

describe('every request example gets its documented answer from the server', () => {
  test('every operation has at least one example request', () => {
    expect(new Set(requests.map((request) => request.operationId))).toEqual(
      new Set(contract.operations().map((operation) => operation.operationId)),
    );
  });

  test.each(requests.map((request) => [`${request.operationId} ${request.name}`, request] as const))(
    '%s',
    async (_name, request) => {
      const prepared = await world.prepare(request);
      const swap = (value: string) => substitute(prepared.substitutions, value);
      const body = exampleBody(request, swap);
      const headers: Record<string, string> = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, swap(value)]),
      );
      if (prepared.credential) headers.Authorization = authorizationOf(prepared.credential);
      if (prepared.cookie) headers.Cookie = prepared.cookie;
      if (request.body) headers['Content-Type'] = request.body.mediaType;
      const response = await fetch(`${world.server.baseUrl}${examplePath(request, swap)}`, {
        method: request.method.toUpperCase(),
        headers,
        redirect: 'manual',
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      const contentType = response.headers.get('content-type');
      expect(response.status, text.slice(0, 600)).toBeLessThan(400);
      const value = contentType?.includes('json') ? (JSON.parse(text) as unknown) : text === '' ? undefined : text;
      expect(
        [
          ...contract.validateBody(request.operationId, response.status, contentType, value),
          ...contract.validateHeaders(request.operationId, response.status, response.headers),
        ],
        text.slice(0, 600),
      ).toEqual([]);
    },
  );
});
