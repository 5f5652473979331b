// contract-validation.ts lets body-check.ts judge requests with a body (and no query
// string) by express-openapi-validator's own compiled functions, without the validator's
// per-request preparation. Here both judge the same requests, on the real contract:
// express-openapi-validator alone (as shipped, no shortcut of ours) and our
// contract-validation stage. For every operation with a JSON body that the check takes,
// and a corpus of bodies made from the contract's own example (as is, each property left
// out, set to null, to the wrong type, to an empty array or object, an unknown property
// added, the same for the first item of each array of objects) under several media types,
// and the example with a path parameter or an Idempotency-Key header outside its schema,
// the verdict (status and message) must be the same, and on acceptance so must be what the
// request carries on: the body with the defaults the validator fills in, req.params and
// req.query. The same for form-encoded bodies (the OAuth endpoints): each field left out,
// empty, sent twice, too long, an unknown one. The check must also really be used: the
// validator's parameter mutator is not called for the requests it accepts.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { indexContract, loadContract, type ContractOperation } from '../../src/contract/operations.ts';
import { hasPlainParameters, plainQueryNames } from '../../src/http/parameters-only-check.ts';
import { validatorSideBySide, type Seen, type SideBySide } from './validator-side-by-side.ts';

type Node = Record<string, unknown>;
const contract = loadContract();
const document = contract.document as { paths: Record<string, Record<string, Node>>; components: Record<string, Record<string, Node>> };

/** The contract's example of an operation's request body in this media type, when it has one. */
function bodyExample(operation: ContractOperation, mediaType: string): unknown {
  let body = document.paths[operation.path]![operation.method]!.requestBody as Node | undefined;
  if (body?.$ref) body = document.components.requestBodies![String(body.$ref).split('/').pop()!];
  const content = (body?.content as Record<string, Node> | undefined)?.[mediaType];
  if (!content) return undefined;
  if (content.example !== undefined) return content.example;
  const examples = Object.values((content.examples ?? {}) as Record<string, Node>);
  const first = examples[0];
  if (!first) return undefined;
  return first.$ref ? document.components.examples![String(first.$ref).split('/').pop()!]!.value : first.value;
}
const jsonExample = (operation: ContractOperation) => bodyExample(operation, 'application/json');
const FORM = 'application/x-www-form-urlencoded';

const taken = contract.operations.filter((operation) => hasPlainParameters(contract.document, operation) && jsonExample(operation) !== undefined);
const takenQueries = contract.operations.filter((operation) => hasPlainParameters(contract.document, operation) && (plainQueryNames(contract.document, operation)?.size ?? 0) > 0);
const takenForms = contract.operations.filter((operation) => hasPlainParameters(contract.document, operation) && bodyExample(operation, FORM) !== undefined);

/** The validator's parameter mutator, watched: it runs in the validator's request step, which the check skips. */
function watchMutator(): { calls(): number; restore(): void } {
  const fromValidator = createRequire(createRequire(import.meta.url).resolve('express-openapi-validator'));
  const { RequestParameterMutator } = fromValidator('./middlewares/parsers/req.parameter.mutator') as { RequestParameterMutator: { prototype: { modifyRequest: () => void } } };
  const spy = vi.spyOn(RequestParameterMutator.prototype, 'modifyRequest');
  return { calls: () => spy.mock.calls.length, restore: () => spy.mockRestore() };
}

/** Form bodies made from a valid one: each field left out, empty, sent twice, plus an unknown one. */
function formVariants(valid: Record<string, string>): string[] {
  const encode = (entries: [string, string][]) => new URLSearchParams(entries).toString();
  const entries = Object.entries(valid).map(([name, value]): [string, string] => [name, String(value)]);
  const out = [encode(entries), encode([...entries, ['unknown_field', 'x']])];
  for (const [i, [name, value]] of entries.entries()) {
    out.push(encode(entries.filter((_, j) => j !== i)));
    out.push(encode(entries.map((entry, j): [string, string] => (j === i ? [name, ''] : entry))));
    out.push(encode([...entries, [name, value]]));
    out.push(encode(entries.map((entry, j): [string, string] => (j === i ? [name, 'x'.repeat(5000)] : entry))));
  }
  return out;
}

let servers: SideBySide | null = null;
let reference = '';
let ours = '';

beforeAll(async () => {
  servers = await validatorSideBySide(contract, { parseBodies: true });
  ({ reference, ours } = servers);
});
afterAll(() => servers?.close());

const seen = async (base: string, method: string, path: string, body: string | undefined, contentType: string | undefined, headers: Record<string, string> = {}): Promise<Seen> =>
  (await (await fetch(`${base}${path}`, { method, headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) }, body })).json()) as Seen;

/** The contract's example of each query parameter of an operation, by name. */
function queryExamples(operation: ContractOperation): Map<string, string> {
  const item = document.paths[operation.path]!;
  const parameters = [...((item.parameters as Node[] | undefined) ?? []), ...((item[operation.method]!.parameters as Node[] | undefined) ?? [])].map(
    (p) => (p.$ref ? document.components.parameters![String(p.$ref).split('/').pop()!]! : p) as { in: string; name: string; example?: unknown },
  );
  return new Map(parameters.filter((p) => p.in === 'query').map((p) => [p.name, String(p.example ?? 'x')]));
}

/**
 * Query strings made from the operation's examples: each alone and all together, encoded;
 * then each parameter empty, bare, twice, of other values (numbers out of range, decimals,
 * words, spaces, percent escapes good and bad, non-ASCII, lone surrogates, reserved
 * characters raw and escaped, 600 characters), and names the validator refuses or rewrites
 * (unknown, other case, brackets, escaped, prototype names), and odd separators.
 */
function queryVariants(examples: Map<string, string>): string[] {
  const encoded = [...examples].map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  const out = [...encoded, encoded.join('&')];
  const others = ['0', '1', '100', '101', '-1', '1.5', '1e2', '020', 'true', 'abc', '%2020', '20%20', 'a%2Cb', 'a,b', 'a:b', 'a+b', 'a%2Bb', 'a/b', "a'b", 'a*b', 'a;b', 'a!b', '%ZZ', '%', '%C3%A9', '%ED%A0%80', '%00', 'é', 'x'.repeat(600), '2026-11-01T00:00:00Z', '2026-11-01T00%3A00%3A00Z', 'not-a-date'];
  for (const [i, [name]] of [...examples].entries()) {
    const rest = encoded.filter((_, j) => j !== i);
    out.push(`${name}=`, name, `${encoded[i]}&${encoded[i]}`, `${name}=${others[0]}&${encoded[i]}`, [`${name}=`, ...rest].join('&'));
    for (const value of others) out.push(`${name}=${value}`);
    out.push(`${name.toUpperCase()}=1`, `${name}[a]=1`, `${name}[]=1`, `${encodeURIComponent(name[0]!).replace(/./, (c) => `%${c.charCodeAt(0).toString(16)}`)}${name.slice(1)}=${encodeURIComponent(examples.get(name)!)}`);
    out.push(`${encoded[i]}&`, `&${encoded[i]}`, `${encoded[i]}&&${encoded[i]}`, `${encoded[i]}=1`, `?${encoded[i]}`);
  }
  out.push('', 'unknown=1', `${encoded[0]}&unknown=1`, '__proto__=1', 'constructor=1', 'hasOwnProperty=1', '&', '=1');
  return out;
}

/** The operation's path with the contract's example of each path parameter. */
function examplePath(operation: ContractOperation): string {
  const item = document.paths[operation.path]!;
  const parameters = [...((item.parameters as Node[] | undefined) ?? []), ...((item[operation.method]!.parameters as Node[] | undefined) ?? [])].map(
    (p) => (p.$ref ? document.components.parameters![String(p.$ref).split('/').pop()!]! : p) as { in: string; name: string; example: string },
  );
  return operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(parameters.find((p) => p.in === 'path' && p.name === name)!.example));
}

/** Bodies made from a valid one: each property left out, null, of another type, empty, plus an unknown one; the same inside the first item of arrays of objects. */
function variants(valid: unknown, depth = 0): unknown[] {
  if (valid === null || typeof valid !== 'object' || Array.isArray(valid) || depth > 2) return [];
  const out: unknown[] = [{ ...valid, unknown_property: 1 }];
  for (const [key, value] of Object.entries(valid)) {
    const { [key]: _left, ...without } = valid as Node;
    out.push(without);
    for (const other of [null, 12345, 'text', true, [], {}, -1.5]) out.push({ ...valid, [key]: other });
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
      for (const item of variants(value[0], depth + 1)) out.push({ ...valid, [key]: [item, ...value.slice(1)] });
      out.push({ ...valid, [key]: [...value, ...value] });
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const inner of variants(value, depth + 1)) out.push({ ...valid, [key]: inner });
    }
  }
  return out;
}

/** Sends requests to both servers, expects the same outcome from each, and counts what happened. */
function judging() {
  const mutator = watchMutator();
  const tally = { compared: 0, refused: 0, acceptedByCheck: 0, referenceMutated: 0 };
  return {
    tally,
    restore: mutator.restore,
    async judge(method: string, target: string, body: string | undefined, contentType: string | undefined, headers?: Record<string, string>, pair: { reference: string; ours: string } = { reference, ours }): Promise<void> {
      const callsBefore = mutator.calls();
      const expected = await seen(pair.reference, method, target, body, contentType, headers);
      const atOurs = mutator.calls();
      const got = await seen(pair.ours, method, target, body, contentType, headers);
      expect(got, `${method} ${target} ${contentType} ${JSON.stringify(headers ?? {})} ${body}`).toEqual(expected);
      tally.compared += 1;
      if (got.status !== 200) tally.refused += 1;
      else if (mutator.calls() === atOurs) tally.acceptedByCheck += 1;
      // The spy sees the validator's mutator at work (in the reference server), so its silence for ours means something.
      if (atOurs > callsBefore) tally.referenceMutated += 1;
    },
  };
}

describe('the body check', () => {
  it('takes the operations with a JSON body whose parameters need no parsing', () => {
    const names = taken.map((operation) => operation.operationId);
    expect(names).toEqual(expect.arrayContaining(['createWorkflow', 'replaceWorkflow', 'runWorkflow', 'createConnection', 'ingestEvent', 'createApiKey', 'login']));
  });

  it("gives express-openapi-validator's verdict, and leaves what it leaves, on every operation it takes", async () => {
    const { tally, judge, restore } = judging();
    try {
      for (const operation of taken) {
        const method = operation.method.toUpperCase();
        const path = examplePath(operation);
        const example = jsonExample(operation);
        // The first request of an operation and media type always takes the validator's whole path.
        const first = await seen(ours, method, path, JSON.stringify(example), 'application/json');
        expect(first.status, `${method} ${path}: ${first.message}`).toBe(200);
        const valid = JSON.stringify(example);
        // Path parameters and header parameters (Idempotency-Key: 1-255 characters) outside their schemas, with a valid body.
        const badPath = operation.pathParameters.length > 0 ? operation.path.replace(/\{[^}]+\}/g, 'not-an-id') : path;
        const requests: [string, string, string, Record<string, string>?][] = [
          ...[example, ...variants(example)].map((body): [string, string, string] => [path, JSON.stringify(body), 'application/json']),
          [path, valid, 'application/json; charset=utf-8'],
          [path, valid, 'application/json; charset=UTF-8'],
          [path, valid, 'application/merge-patch+json'],
          [path, valid, 'text/plain'],
          [path, '[]', 'application/json'],
          [path, '{}', 'application/json'],
          [badPath, valid, 'application/json'],
          [path, valid, 'application/json', { 'idempotency-key': 'k'.repeat(256) }],
          [path, valid, 'application/json', { 'idempotency-key': 'k'.repeat(255) }],
        ];
        for (const [target, body, contentType, headers] of requests) await judge(method, target, body, contentType, headers);
      }
    } finally {
      restore();
    }
    expect(tally.compared).toBeGreaterThan(300);
    expect(tally.referenceMutated).toBeGreaterThan(tally.compared / 2);
    // Both verdicts were exercised: many bodies refused, and accepted ones that never reached the validator's mutator.
    expect(tally.refused).toBeGreaterThan(100);
    expect(tally.acceptedByCheck).toBeGreaterThanOrEqual(taken.length * 2);
  });

  it('does the same for requests with a query string (lists with a limit, a cursor, filters)', async () => {
    expect(takenQueries.map((operation) => operation.operationId)).toEqual(expect.arrayContaining(['listWorkflows', 'listRuns', 'listApiKeys', 'listAuditLogs']));
    const { tally, judge, restore } = judging();
    try {
      for (const operation of takenQueries) {
        const method = operation.method.toUpperCase();
        const path = examplePath(operation);
        const example = jsonExample(operation);
        const [body, contentType] = example === undefined ? [undefined, undefined] : [JSON.stringify(example), 'application/json'];
        // The first request of an operation and media type always takes the validator's whole path.
        expect((await seen(ours, method, path, body, contentType)).status, `${method} ${path}`).toBe(200);
        for (const query of queryVariants(queryExamples(operation))) await judge(method, `${path}?${query}`, body, contentType);
      }
    } finally {
      restore();
    }
    expect(tally.compared).toBeGreaterThan(takenQueries.length * 40);
    expect(tally.refused).toBeGreaterThan(takenQueries.length * 20);
    // Accepted ones that never reached the validator's mutator: at least each example alone and all together.
    expect(tally.acceptedByCheck).toBeGreaterThanOrEqual(takenQueries.length * 2);
  });

  it('leaves empty query values to the validator, also for a parameter whose schema takes an empty string', async () => {
    // No parameter of the real contract takes '' (Ajv refuses it there anyway): a copy with
    // one that does shows the check does not accept what the validator refuses before Ajv.
    const copy = structuredClone(contract.document) as { paths: Record<string, unknown> };
    copy.paths['/v1/query-probe'] = {
      get: {
        operationId: 'queryProbe',
        parameters: [
          { name: 'free', in: 'query', required: false, schema: { type: 'string', maxLength: 10 } },
          { name: 'n', in: 'query', required: false, schema: { type: 'integer', default: 5 } },
        ],
        responses: { '200': { description: 'ok' } },
      },
    };
    const probe = await validatorSideBySide(indexContract(copy), { parseBodies: false });
    const { tally, judge, restore } = judging();
    try {
      expect((await seen(probe.ours, 'GET', '/v1/query-probe', undefined, undefined)).status).toBe(200);
      for (const query of ['free=', 'free=&n=1', 'n=', 'free=abc', 'free=abc&n=7', 'n=7', 'free=%20', 'free=abcdefghijk', 'free=a&free=b']) {
        await judge('GET', `/v1/query-probe?${query}`, undefined, undefined, undefined, probe);
      }
    } finally {
      restore();
      probe.close();
    }
    expect(tally.refused).toBeGreaterThanOrEqual(4);
    expect(tally.acceptedByCheck).toBeGreaterThanOrEqual(3);
  });

  it('does the same for form-encoded bodies (the OAuth endpoints)', async () => {
    expect(takenForms.map((operation) => operation.operationId)).toEqual(expect.arrayContaining(['submitAuthorization', 'issueToken', 'revokeToken', 'introspectToken']));
    const { tally, judge, restore } = judging();
    try {
      for (const operation of takenForms) {
        const method = operation.method.toUpperCase();
        const path = examplePath(operation);
        const [valid, ...variants] = formVariants(bodyExample(operation, FORM) as Record<string, string>);
        // The first request of an operation and media type always takes the validator's whole path.
        expect((await seen(ours, method, path, valid!, FORM)).status, `${method} ${path}`).toBe(200);
        for (const body of [valid!, ...variants]) await judge(method, path, body, FORM);
        await judge(method, path, valid!, `${FORM}; charset=utf-8`);
        await judge(method, path, valid!, 'text/plain');
      }
    } finally {
      restore();
    }
    expect(tally.compared).toBeGreaterThan(60);
    expect(tally.refused).toBeGreaterThan(10);
    expect(tally.acceptedByCheck).toBeGreaterThanOrEqual(takenForms.length);
  });
});
