// The error catalogue (ErrorCode's enum and its x-error-catalogue) is what the
// server maps its errors to and what the docs publish; every error example in the
// contract must agree with it, or Prism and the docs teach clients wrong codes.
import { describe, expect, test } from 'vitest';
import { loadContractDocument } from '../support/contract-document.ts';

interface CatalogueEntry {
  type?: unknown;
  status?: unknown;
}

interface ErrorExampleValue {
  error?: { type?: unknown; code?: unknown; status?: unknown };
}

describe('error catalogue', () => {
  const contract = loadContractDocument();

  // Found through the Error schema rather than by component name, so a rename of the
  // component cannot make this test check nothing.
  const errorPointer = '/components/schemas/Error';
  const errorSchema = contract.componentSchema('Error');
  if (!errorSchema) throw new Error(`${contract.file} has no components.schemas.Error (the error envelope)`);
  const property = (schema: unknown, name: string): Record<string, unknown> => {
    const properties = contract.resolve<{ properties?: Record<string, unknown> }>(schema).value.properties ?? {};
    const value = properties[name];
    if (value === undefined) throw new Error(`the Error schema has no ${name} property`);
    return contract.resolve<Record<string, unknown>>(value).value;
  };
  const errorObject = property(errorSchema, 'error');
  const codeSchema = property(errorObject, 'code');
  const typeSchema = property(errorObject, 'type');
  const codes = (codeSchema.enum ?? []) as string[];
  const types = (typeSchema.enum ?? []) as string[];
  const catalogue = (codeSchema['x-error-catalogue'] ?? {}) as Record<string, CatalogueEntry>;

  test('the ErrorCode enum and x-error-catalogue list exactly the same codes', () => {
    expect(codes.length, 'ErrorCode has no enum').toBeGreaterThan(0);
    const notCatalogued = codes.filter((code) => !(code in catalogue));
    const notInEnum = Object.keys(catalogue).filter((code) => !codes.includes(code));
    expect({ notCatalogued, notInEnum }).toEqual({ notCatalogued: [], notInEnum: [] });
  });

  test('every catalogue entry has a known error type and a 4xx/5xx status', () => {
    const problems = Object.entries(catalogue).flatMap(([code, entry]) => {
      const found: string[] = [];
      if (typeof entry.type !== 'string' || !types.includes(entry.type)) {
        found.push(`${code}: type ${JSON.stringify(entry.type)} is not an ErrorType (${types.join(', ')})`);
      }
      if (
        typeof entry.status !== 'number' ||
        !Number.isInteger(entry.status) ||
        entry.status < 400 ||
        entry.status > 599
      ) {
        found.push(`${code}: status ${JSON.stringify(entry.status)} is not a 4xx/5xx`);
      }
      return found;
    });
    expect(problems).toEqual([]);
  });

  test('every /v1 error example (and every Error-envelope example elsewhere) is named after its code and agrees with the catalogue and its status', () => {
    const problems: string[] = [];
    for (const operation of contract.operations()) {
      const onV1 = operation.path.startsWith('/v1/');
      for (const [statusKey, response] of Object.entries(operation.responses)) {
        const status = Number(statusKey);
        if (!Number.isInteger(status) || status < 400) continue;
        const where = `${operation.operationId} ${statusKey}`;
        const content = Object.entries(response.content ?? {});
        if (onV1 && content.length === 0)
          problems.push(`${where}: no content (every /v1 error answers the Error envelope)`);
        for (const [mediaType, media] of content) {
          // Outside /v1 (OAuth, /health) only the responses that use the envelope are checked.
          if (!onV1 && (media.schema === undefined || contract.resolve(media.schema).pointer !== errorPointer))
            continue;
          const examples = Object.entries(media.examples ?? {});
          if (examples.length === 0) problems.push(`${where} ${mediaType}: no named examples (one per error code)`);
          for (const [name, exampleOrRef] of examples) {
            const at = `${where} example ${name}`;
            const value = contract.resolve<{ value?: ErrorExampleValue }>(exampleOrRef).value.value;
            const error = value?.error;
            const code = error?.code;
            if (typeof code !== 'string') {
              problems.push(`${at}: has no error.code`);
              continue;
            }
            if (name !== code) problems.push(`${at}: is named ${name} but its error.code is ${code}`);
            if (!codes.includes(code)) {
              problems.push(`${at}: code ${code} is not in the ErrorCode enum`);
              continue;
            }
            const entry = catalogue[code];
            if (!entry) continue; // reported by the enum/catalogue test
            if (error?.type !== entry.type)
              problems.push(
                `${at}: type ${JSON.stringify(error?.type)}, the catalogue says ${JSON.stringify(entry.type)}`,
              );
            if (error?.status !== entry.status)
              problems.push(
                `${at}: error.status ${JSON.stringify(error?.status)}, the catalogue says ${JSON.stringify(entry.status)}`,
              );
            if (entry.status !== status)
              problems.push(
                `${at}: sits under ${statusKey}, the catalogue gives ${code} status ${JSON.stringify(entry.status)}`,
              );
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("every secured operation's 401 declares WWW-Authenticate", () => {
    const problems: string[] = [];
    for (const operation of contract.operations()) {
      if (!operation.secured) continue;
      const unauthorized = operation.responses['401'];
      if (!unauthorized) {
        problems.push(`${operation.operationId}: secured but documents no 401`);
        continue;
      }
      const headers = Object.keys(unauthorized.headers ?? {}).map((name) => name.toLowerCase());
      if (!headers.includes('www-authenticate'))
        problems.push(`${operation.operationId}: its 401 does not declare WWW-Authenticate`);
    }
    expect(problems).toEqual([]);
  });
});
