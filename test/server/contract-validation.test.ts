// contract-validation.ts gives each path of the contract an express-openapi-validator of
// its own, on a document of that path alone. Here two servers judge the same requests:
// the validator as shipped on the whole contract, and our contract-validation stage
// (after operation-match, as in the pipeline). For every operation of the real contract,
// with requests made from its own examples (each body property left out, null, of another
// type, empty, an unknown one added; bad path parameters; query strings of good and bad
// values and unknown names; form bodies with fields left out, empty, repeated, too long;
// an Idempotency-Key over its length), the verdict (status and message) must be the same,
// and on acceptance so must be what the request carries on: path parameters, query, body.
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadContract, type ContractOperation } from '../../src/contract/operations.ts';
import { contractValidation } from '../../src/http/contract-validation.ts';
import { matchOperation } from '../../src/http/operation-match.ts';
import { requestId } from '../../src/http/request-id.ts';

type Node = Record<string, unknown>;
type Seen = { status: number; message?: string; params?: unknown; query?: unknown; body?: unknown };
const contract = loadContract();
const document = contract.document as {
  paths: Record<string, Record<string, Node>>;
  components: Record<string, Record<string, Node>>;
};
const FORM = 'application/x-www-form-urlencoded';
const lastSegment = (ref: unknown): string => (typeof ref === 'string' ? ref.split('/').pop()! : '');
/** A parameter's example as it is sent in a URL. */
const asText = (value: unknown): string =>
  value === undefined ? 'x' : typeof value === 'string' ? value : JSON.stringify(value);

function capturing(app: Express): void {
  const capture: RequestHandler = (req, res) => {
    // Express resets req.params at each app.use layer: the path parameters are read where the validator leaves them.
    const pathParams = (req as { openapi?: { pathParams?: Record<string, string> } }).openapi?.pathParams;
    res.json({
      status: 200,
      params: { ...pathParams },
      query: { ...(req.query as object) },
      body: req.body as unknown,
    } satisfies Seen);
  };
  const failed: ErrorRequestHandler = (error: { status?: number; message?: string }, _req, res, _next) => {
    res.status(200).json({ status: error.status ?? 500, message: error.message } satisfies Seen);
  };
  app.use(capture, failed);
}

const servers: ReturnType<Express['listen']>[] = [];
let reference = '';
let ours = '';

beforeAll(async () => {
  // The production parsers' settings (src/http/body-parsers.ts).
  const parsers = [
    express.json({ strict: true, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ extended: false, parameterLimit: 100, type: FORM }),
  ];
  const whole = express();
  whole.use(
    ...parsers,
    requestId(() => Date.now()),
    matchOperation(contract),
    ...(OpenApiValidator.middleware({
      apiSpec: structuredClone(contract.document) as never,
      validateApiSpec: false,
      validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
      validateResponses: false,
      validateSecurity: false,
      fileUploader: false,
      ignoreUndocumented: false,
    }) as unknown as RequestHandler[]),
  );
  capturing(whole);
  const perPath = express();
  perPath.use(
    ...parsers,
    requestId(() => Date.now()),
    matchOperation(contract),
    contractValidation(contract, { validateResponses: false }),
  );
  capturing(perPath);
  servers.push(whole.listen(0, '127.0.0.1'), perPath.listen(0, '127.0.0.1'));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.once('listening', resolve))));
  [reference, ours] = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`) as [
    string,
    string,
  ];
});
afterAll(() => servers.forEach((server) => server.close()));

const seen = async (
  base: string,
  method: string,
  target: string,
  body: string | undefined,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): Promise<Seen> =>
  (await (
    await fetch(`${base}${target}`, {
      method,
      headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    })
  ).json()) as Seen;

function parametersOf(operation: ContractOperation): Array<{ in: string; name: string; example?: unknown }> {
  const item = document.paths[operation.path]!;
  return [
    ...((item.parameters as Node[] | undefined) ?? []),
    ...((item[operation.method]!.parameters as Node[] | undefined) ?? []),
  ].map(
    (p) =>
      (p.$ref ? document.components.parameters![lastSegment(p.$ref)]! : p) as {
        in: string;
        name: string;
        example?: unknown;
      },
  );
}

/** The contract's example of an operation's request body in this media type, when it has one. */
function bodyExample(operation: ContractOperation, mediaType: string): unknown {
  let body = document.paths[operation.path]![operation.method]!.requestBody as Node | undefined;
  if (body?.$ref) body = document.components.requestBodies![lastSegment(body.$ref)];
  const content = (body?.content as Record<string, Node> | undefined)?.[mediaType];
  if (!content) return undefined;
  if (content.example !== undefined) return content.example;
  const first = Object.values((content.examples ?? {}) as Record<string, Node>)[0];
  if (!first) return undefined;
  return first.$ref ? document.components.examples![lastSegment(first.$ref)]!.value : first.value;
}

/** Bodies made from a valid one: each property left out, null, of another type, empty, plus an unknown one; the same one level down. */
function variants(valid: unknown, depth = 0): unknown[] {
  if (valid === null || typeof valid !== 'object' || Array.isArray(valid) || depth > 1) return [];
  const out: unknown[] = [{ ...valid, unknown_property: 1 }];
  for (const [key, value] of Object.entries(valid)) {
    const { [key]: _left, ...without } = valid as Node;
    out.push(without);
    for (const other of [null, 12345, 'text', true, [], {}]) out.push({ ...valid, [key]: other });
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
      for (const item of variants(value[0], depth + 1)) out.push({ ...valid, [key]: [item, ...value.slice(1)] });
    } else if (value !== null && typeof value === 'object') {
      for (const inner of variants(value, depth + 1)) out.push({ ...valid, [key]: inner });
    }
  }
  return out;
}

function formVariants(valid: Record<string, string>): string[] {
  const encode = (entries: [string, string][]) => new URLSearchParams(entries).toString();
  const entries = Object.entries(valid).map(([name, value]): [string, string] => [name, String(value)]);
  const out = [encode(entries), encode([...entries, ['unknown_field', 'x']])];
  for (const [i, [name, value]] of entries.entries()) {
    out.push(
      encode(entries.filter((_, j) => j !== i)),
      encode(entries.map((entry, j): [string, string] => (j === i ? [name, ''] : entry))),
      encode([...entries, [name, value]]),
    );
    out.push(encode(entries.map((entry, j): [string, string] => (j === i ? [name, 'x'.repeat(5000)] : entry))));
  }
  return out;
}

function queryVariants(examples: Map<string, string>): string[] {
  const encoded = [...examples].map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  const out = [...encoded, encoded.join('&'), 'unknown=1', '__proto__=1'];
  for (const [name] of examples) {
    out.push(`${name}=`, name, `${name}=a&${name}=b`, `${name}[a]=1`);
    for (const value of [
      '0',
      '1',
      '101',
      '-1',
      '1.5',
      'abc',
      '%ZZ',
      '%C3%A9',
      'a:b',
      'x'.repeat(600),
      '2026-11-01T00:00:00Z',
      'not-a-date',
    ])
      out.push(`${name}=${value}`);
  }
  return out;
}

it("gives the whole contract's verdict, and leaves what it leaves, on every operation", async () => {
  const tally = { compared: 0, refused: 0, accepted: 0 };
  const judge = async (
    method: string,
    target: string,
    body?: string,
    contentType?: string,
    headers?: Record<string, string>,
  ) => {
    const expected = await seen(reference, method, target, body, contentType, headers);
    const got = await seen(ours, method, target, body, contentType, headers);
    expect(got, `${method} ${target} ${contentType} ${JSON.stringify(headers ?? {})} ${body}`).toEqual(expected);
    tally.compared += 1;
    if (got.status === 200) tally.accepted += 1;
    else tally.refused += 1;
  };
  for (const operation of contract.operations.filter((each) => each.method !== 'options')) {
    const method = operation.method.toUpperCase();
    const parameters = parametersOf(operation);
    const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
      encodeURIComponent(asText(parameters.find((p) => p.in === 'path' && p.name === name)?.example)),
    );
    const json = bodyExample(operation, 'application/json');
    const form = bodyExample(operation, FORM);
    const [body, contentType] =
      json !== undefined
        ? [JSON.stringify(json), 'application/json']
        : form !== undefined
          ? [new URLSearchParams(form as Record<string, string>).toString(), FORM]
          : [undefined, undefined];
    await judge(method, path, body, contentType);
    if (operation.pathParameters.length > 0) {
      for (const bad of ['not-an-id', '%E2%82%AC', 'x'.repeat(300)])
        await judge(method, operation.path.replace(/\{[^}]+\}/g, bad), body, contentType);
    }
    const queries = new Map(parameters.filter((p) => p.in === 'query').map((p) => [p.name, asText(p.example)]));
    for (const query of queryVariants(queries)) await judge(method, `${path}?${query}`, body, contentType);
    if (json !== undefined) {
      for (const variant of variants(json)) await judge(method, path, JSON.stringify(variant), 'application/json');
      for (const [raw, type] of [
        [body, 'text/plain'],
        [body, 'application/json; charset=utf-8'],
        ['[]', 'application/json'],
        ['{}', 'application/json'],
      ])
        await judge(method, path, raw, type);
    }
    if (form !== undefined)
      for (const variant of formVariants(form as Record<string, string>)) await judge(method, path, variant, FORM);
    if (operation.idempotent)
      for (const key of ['k'.repeat(255), 'k'.repeat(256)])
        await judge(method, path, body, contentType, { 'idempotency-key': key });
  }
  expect(tally.compared).toBeGreaterThan(1000);
  expect(tally.refused).toBeGreaterThan(300);
  expect(tally.accepted).toBeGreaterThan(100);
});
