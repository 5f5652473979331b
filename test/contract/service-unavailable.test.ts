// Every operation says what a client gets when a dependency is down or too slow
// (PRODUCT.md: a fast 503 with Retry-After, never a hang or a 500): the shared 503
// response of its form, each declaring Retry-After and naming its example. /health
// has its own 503, the Health body.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { contractDocumentPath } from '../support/contract-document.ts';

interface Operation {
  operationId: string;
  responses: Record<string, { $ref?: string }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: {
    responses: Record<
      string,
      { headers?: Record<string, unknown>; content?: Record<string, { examples?: Record<string, unknown> }> }
    >;
  };
}

const document = JSON.parse(readFileSync(contractDocumentPath(), 'utf8')) as Document;

/** The shared 503 each kind of path answers with, and its example. */
function expected(path: string): { response: string; mediaType: string; example: string } | null {
  if (path === '/health') return null;
  if (path === '/oauth/authorize')
    return { response: 'ServiceUnavailablePage', mediaType: 'text/html', example: 'temporarily_unavailable' };
  if (path.startsWith('/oauth/') || path.startsWith('/.well-known/'))
    return { response: 'OAuthServiceUnavailable', mediaType: 'application/json', example: 'temporarily_unavailable' };
  return { response: 'ServiceUnavailable', mediaType: 'application/json', example: 'service_unavailable' };
}

describe('503 when a dependency is down', () => {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.values(item)
      .filter((op) => typeof op === 'object' && op.responses)
      .map((op) => ({ path, op })),
  );

  test('every operation but /health lists the shared 503 of its form', () => {
    const wrong = operations.flatMap(({ path, op }) => {
      const want = expected(path);
      if (!want) return [];
      const ref = op.responses['503']?.$ref;
      return ref === `#/components/responses/${want.response}`
        ? []
        : [`${op.operationId}: 503 is ${ref ?? 'missing'}, not ${want.response}`];
    });
    expect(operations.length).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });

  test('each shared 503 declares Retry-After and X-Request-Id and names its example', () => {
    for (const name of ['ServiceUnavailable', 'OAuthServiceUnavailable', 'ServiceUnavailablePage']) {
      const response = document.components.responses[name];
      expect(response, name).toBeDefined();
      expect(Object.keys(response!.headers ?? {}).sort(), name).toEqual(['Retry-After', 'X-Request-Id']);
      const want = name === 'ServiceUnavailable' ? 'service_unavailable' : 'temporarily_unavailable';
      const media = Object.values(response!.content ?? {});
      expect(media.length, name).toBe(1);
      expect(Object.keys(media[0]!.examples ?? {}), name).toEqual([want]);
    }
  });
});
