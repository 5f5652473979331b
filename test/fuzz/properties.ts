// Property-based requests (fast-check) derived from the contract's schemas: for an
// operation, arbitraries of its path and query parameters, its credential and its
// body, each mostly valid by its schema and sometimes anything at all (a node of
// the schema replaced by arbitrary JSON, a whole body of arbitrary JSON, pollution
// keys), so requests reach deep into the handlers as well as the validator.
import fc from 'fast-check';
import type { ContractDocument, ContractOperation } from '../support/contract-document.ts';
import type { RawRequest } from '../support/raw-http.ts';
import { encode, INJECTIONS, UNICODE, type FuzzTarget } from './corpus.ts';

type Schema = Record<string, unknown>;

const MAX_DEPTH = 4;

/** Strings that break things more often than random ones. */
const nastyString = fc.constantFrom(
  ...INJECTIONS,
  ...UNICODE,
  '',
  ' ',
  '0',
  '-1',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'a'.repeat(300),
);

const anyJson = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0.1, 2 ** 31, 2 ** 63) },
  {
    weight: 1,
    arbitrary: fc.constant(
      JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}') as unknown,
    ),
  },
);

function resolved(document: ContractDocument, value: unknown): Schema {
  let schema = document.resolve<Schema>(value).value;
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((part) => resolved(document, part));
    const { allOf: _allOf, ...rest } = schema;
    schema = Object.assign({}, ...parts, rest) as Schema;
  }
  return schema;
}

/** A value valid by the schema most of the time; with `loose`, any node may be anything. */
export function arbitraryOf(
  document: ContractDocument,
  input: unknown,
  loose: boolean,
  depth = 0,
): fc.Arbitrary<unknown> {
  const valid = strictArbitrary(document, resolved(document, input), loose, depth);
  return loose ? fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyJson }) : valid;
}

function strictArbitrary(
  document: ContractDocument,
  schema: Schema,
  loose: boolean,
  depth: number,
): fc.Arbitrary<unknown> {
  const next = (value: unknown) => arbitraryOf(document, value, loose, depth + 1);
  if (depth > MAX_DEPTH) return fc.constant('deep');
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (Array.isArray(branches)) return fc.oneof(...branches.map(next));
  const types = ([] as string[]).concat((schema.type as string | string[] | undefined) ?? []);
  if (types.length > 1)
    return fc.oneof(...types.map((type) => strictArbitrary(document, { ...schema, type }, loose, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({
        min: (schema.minimum as number | undefined) ?? -1_000_000,
        max: (schema.maximum as number | undefined) ?? 1_000_000,
      });
    case 'number':
      return fc.double({
        min: (schema.minimum as number | undefined) ?? -1e6,
        max: (schema.maximum as number | undefined) ?? 1e6,
        noNaN: true,
      });
    case 'string':
      return stringArbitrary(schema);
    case 'array': {
      const maxLength = Math.min((schema.maxItems as number | undefined) ?? 4, 4);
      return fc.array(next(schema.items ?? {}), {
        minLength: Math.min((schema.minItems as number | undefined) ?? 0, maxLength),
        maxLength,
      });
    }
    case 'object':
      return objectArbitrary(document, schema, loose, depth);
    default:
      return anyJson;
  }
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0;
  const maxLength = Math.max(minLength, Math.min((schema.maxLength as number | undefined) ?? 40, 40));
  if (schema.format === 'date-time')
    return fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.webUrl();
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern);
    return fc
      .stringMatching(pattern)
      .filter((s) => s.length >= minLength && s.length <= ((schema.maxLength as number | undefined) ?? Infinity));
  }
  return fc.oneof(fc.string({ minLength, maxLength }), fc.string({ minLength, maxLength, unit: 'grapheme' }));
}

function objectArbitrary(
  document: ContractDocument,
  schema: Schema,
  loose: boolean,
  depth: number,
): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const required = (schema.required ?? []) as string[];
  const next = (value: unknown) => arbitraryOf(document, value, loose, depth + 1);
  if (Object.keys(properties).length > 0) {
    const record = fc.record(
      Object.fromEntries(Object.entries(properties).map(([name, value]) => [name, next(value)])),
      { requiredKeys: required.filter((name) => name in properties) },
    );
    // Loose: sometimes drop a required field or add an unknown one.
    return loose
      ? fc
          .tuple(
            record,
            fc.option(fc.constantFrom(...required, '__proto__', 'unexpected'), { nil: undefined }),
            anyJson,
          )
          .map(([value, extra, any]) => {
            const copy = { ...(value as Record<string, unknown>) };
            if (extra === undefined) return copy;
            if (required.includes(extra)) delete copy[extra];
            else
              Object.defineProperty(copy, extra, { value: any, enumerable: true, writable: true, configurable: true });
            return copy;
          })
      : record;
  }
  // A free-form map (credentials, set values, run input, event data).
  const names = schema.propertyNames
    ? stringArbitrary(resolved(document, schema.propertyNames))
    : fc.string({ maxLength: 20 });
  const values =
    schema.additionalProperties && typeof schema.additionalProperties === 'object'
      ? next(schema.additionalProperties)
      : anyJson;
  const minKeys = (schema.minProperties as number | undefined) ?? 0;
  return fc.dictionary(names, values, { minKeys, maxKeys: Math.max(minKeys, 5) });
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

/** A printable header value (what a client can send at all). */
const headerValue = fc.string({
  maxLength: 60,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

/**
 * Runs `budget` property-based requests for the operation; `check` returns the
 * problems of one answer. Returns the problems of the counterexample, if any.
 */
export async function propertyCases(
  document: ContractDocument,
  operation: ContractOperation,
  fuzz: FuzzTarget,
  budget: number,
  check: (request: RawRequest) => Promise<string[]>,
): Promise<string[]> {
  if (budget <= 0) return [];
  const parameters = ((document.at(`${operation.pointer}/parameters`) ?? []) as unknown[]).map(
    (p) => document.resolve<Parameter>(p).value,
  );
  const ids = fuzz.ids as Record<string, string>;

  const pathArbitrary = fc.record(
    Object.fromEntries(
      parameters
        .filter((p) => p.in === 'path')
        .map((p) => [
          p.name,
          fc.oneof(
            { weight: 3, arbitrary: fc.constant(ids[p.name] ?? 'x') },
            { weight: 2, arbitrary: stringArbitrary(resolved(document, p.schema ?? {})) },
            { weight: 1, arbitrary: fc.string({ minLength: 1 }) },
            { weight: 1, arbitrary: nastyString.filter((s) => s !== '') },
          ),
        ]),
    ),
  );
  const queryArbitrary = fc.record(
    Object.fromEntries(
      parameters
        .filter((p) => p.in === 'query')
        .map((p) => [
          p.name,
          fc.option(
            fc.oneof(
              { weight: 3, arbitrary: arbitraryOf(document, p.schema ?? {}, false).map(String) },
              { weight: 1, arbitrary: fc.string() },
              { weight: 1, arbitrary: nastyString },
            ),
            { nil: undefined, freq: 2 },
          ),
        ]),
    ),
    { requiredKeys: [] },
  );
  const bearerOnly =
    operation.secured &&
    operation.security.every((requirement) => Object.keys(requirement).every((scheme) => scheme === 'BearerAuth'));
  const credentialArbitrary: fc.Arbitrary<Array<[string, string]>> = operation.secured
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constant([
            ['Authorization', `Bearer ${bearerOnly ? fuzz.sessionToken : fuzz.secretKey}`],
          ] as Array<[string, string]>),
        },
        { weight: 1, arbitrary: fc.constant([['X-API-Key', fuzz.restrictedKey]] as Array<[string, string]>) },
        { weight: 1, arbitrary: fc.constant([] as Array<[string, string]>) },
        { weight: 1, arbitrary: headerValue.map((value) => [['Authorization', value]] as Array<[string, string]>) },
        {
          weight: 1,
          arbitrary: headerValue.map(
            (value) =>
              [
                ['Authorization', `Bearer ${fuzz.secretKey}`],
                ['X-API-Key', value],
              ] as Array<[string, string]>,
          ),
        },
      )
    : fc.constant([]);

  const requestBody = document.at(`${operation.pointer}/requestBody`);
  const content =
    requestBody === undefined
      ? {}
      : (document.resolve<{ content?: Record<string, { schema?: unknown }> }>(requestBody).value.content ?? {});
  const bodyArbitrary: fc.Arbitrary<{ mediaType: string; text: string } | null> =
    Object.keys(content).length === 0
      ? fc.constant(null)
      : fc.oneof(
          ...Object.entries(content).map(([mediaType, media]) =>
            fc
              .oneof(
                { weight: 3, arbitrary: arbitraryOf(document, media.schema ?? {}, false) },
                { weight: 3, arbitrary: arbitraryOf(document, media.schema ?? {}, true) },
                { weight: 1, arbitrary: anyJson },
              )
              .map((value) => ({ mediaType, text: serialise(mediaType, value) })),
          ),
        );

  const problems: string[] = [];
  await fc
    .assert(
      fc.asyncProperty(
        pathArbitrary,
        queryArbitrary,
        credentialArbitrary,
        bodyArbitrary,
        async (path, query, credential, body) => {
          const pathname = operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
            encode((path as Record<string, string>)[name] ?? 'x'),
          );
          const search = new URLSearchParams(
            Object.entries(query as Record<string, string | undefined>).filter(
              (entry): entry is [string, string] => entry[1] !== undefined,
            ),
          ).toString();
          const request: RawRequest = {
            method: operation.method.toUpperCase(),
            target: search ? `${pathname}?${search}` : pathname,
            headers: [...credential, ...(body ? ([['Content-Type', body.mediaType]] as Array<[string, string]>) : [])],
            ...(body ? { body: body.text } : {}),
          };
          const found = await check(request);
          if (found.length > 0) {
            problems.splice(
              0,
              problems.length,
              ...found.map(
                (problem) =>
                  `${operation.operationId} ${request.method} ${request.target.slice(0, 200)} ${String(request.body ?? '').slice(0, 300)} -> ${problem}`,
              ),
            );
            return false;
          }
          return true;
        },
      ),
      { numRuns: budget, endOnFailure: true },
    )
    .catch(() => undefined);
  return problems;
}

function serialise(mediaType: string, value: unknown): string {
  if (!mediaType.startsWith('application/x-www-form-urlencoded')) return JSON.stringify(value) ?? 'null';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return String(value);
  return new URLSearchParams(
    Object.entries(value as Record<string, unknown>).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : (JSON.stringify(v) ?? ''),
    ]),
  ).toString();
}
