// contract-validation.ts lets parameters-only-check.ts judge requests that carry only
// path parameters, instead of express-openapi-validator's request step. Here both judge
// the same requests, on the real contract: express-openapi-validator alone (as shipped,
// no shortcut of ours) and our contract-validation stage. For every operation the check
// takes, and every path value of a corpus (valid ids, wrong prefixes, unicode, percent-
// encoded bytes, lengths, injection text), the verdict must be the same, and on acceptance
// so must be what the request carries on (req.params, req.query and its defaults). The
// check must also really be used: the validator's parameter mutator is not called for
// the accepted ones.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadContract } from '../../src/contract/operations.ts';
import { parametersOnlyCheck } from '../../src/http/parameters-only-check.ts';
import { validatorSideBySide, type Seen, type SideBySide } from './validator-side-by-side.ts';

const contract = loadContract();
const taken = contract.operations.filter((operation) => parametersOnlyCheck(contract.document as Record<string, unknown>, operation) !== null);

let servers: SideBySide | null = null;
let reference = '';
let ours = '';

beforeAll(async () => {
  servers = await validatorSideBySide(contract, { parseBodies: false });
  ({ reference, ours } = servers);
});
afterAll(() => servers?.close());

const seen = async (base: string, method: string, path: string): Promise<Seen> => (await (await fetch(`${base}${path}`, { method })).json()) as Seen;

/** The example in the contract of each path parameter of the operation. */
function examples(operation: (typeof taken)[number]): string[] {
  const document = contract.document as { paths: Record<string, Record<string, { parameters?: unknown[] }>>; components: { parameters: Record<string, unknown> } };
  const item = document.paths[operation.path]!;
  const parameters = [...((item as { parameters?: unknown[] }).parameters ?? []), ...(item[operation.method]!.parameters ?? [])].map((p) => {
    const ref = (p as { $ref?: string }).$ref;
    return (ref ? document.components.parameters[ref.split('/').pop()!] : p) as { in: string; name: string; example: string };
  });
  return operation.pathParameters.map((name) => parameters.find((p) => p.in === 'path' && p.name === name)!.example);
}

/** The operation's path with these (already encoded) values in place of its parameters. */
const pathWith = (operation: (typeof taken)[number], values: string[]) => {
  let i = 0;
  return operation.path.replace(/\{[^}]+\}/g, () => values[i++]!);
};

const VALUES = (example: string): string[] => [
  example,
  `${example}x`,
  example.slice(0, -1),
  example.toUpperCase(),
  `x${example.slice(1)}`,
  `${example.slice(0, -1)}ü`,
  `${example.slice(0, -2)}😀`,
  encodeURIComponent(`${example.slice(0, -1)}ü`),
  '%F0%9F%98%80',
  '%E0%A4%A',
  '%2F',
  'not%20an%20id',
  "1'%20or%20'1'='1",
  '%00',
  'a'.repeat(300),
  example.replace(/_/, '%5F'),
];

describe('the parameters-only check', () => {
  it('takes the operations it can judge: the GETs and DELETEs of ids, lists without body', () => {
    const names = taken.map((operation) => operation.operationId);
    expect(names).toEqual(expect.arrayContaining(['getWorkflow', 'listWorkflows', 'deleteWorkflow']));
    // Never an operation with a body, header parameters or required query parameters.
    for (const operation of taken) expect(['get', 'delete', 'post']).toContain(operation.method);
    expect(names).not.toContain('createWorkflow');
    expect(names).not.toContain('authorize');
  });

  it("gives express-openapi-validator's verdict, and leaves what it leaves, on every operation it takes", async () => {
    const fromValidator = createRequire(createRequire(import.meta.url).resolve('express-openapi-validator'));
    const { RequestParameterMutator } = fromValidator('./middlewares/parsers/req.parameter.mutator') as { RequestParameterMutator: { prototype: { modifyRequest: () => void } } };
    const mutate = vi.spyOn(RequestParameterMutator.prototype, 'modifyRequest');
    let compared = 0;
    let acceptedByShortcut = 0;
    try {
      for (const operation of taken) {
        const method = operation.method.toUpperCase();
        const example = examples(operation);
        const valid = pathWith(operation, example.map(encodeURIComponent));
        // The first request of an operation always takes the validator's whole path.
        const first = await seen(ours, method, valid);
        expect(first.status).toBe(200);
        expect(first.params).toEqual(Object.fromEntries(operation.pathParameters.map((name, i) => [name, example[i]])));
        expect(operation.pathParameters.length).toBeLessThanOrEqual(1);
        const paths =
          operation.pathParameters.length === 0
            ? [valid, `${valid}?limit=5`, `${valid}?`, `${valid}?unknown=1`]
            : VALUES(example[0]!).map((value) => pathWith(operation, [value.includes('%') ? value : encodeURIComponent(value)]));
        for (const path of paths) {
          mutate.mockClear();
          const expected = await seen(reference, method, path);
          const callsBefore = mutate.mock.calls.length;
          const got = await seen(ours, method, path);
          expect(got, `${method} ${path}`).toEqual(expected);
          compared += 1;
          if (got.status === 200 && !path.includes('?') && mutate.mock.calls.length === callsBefore) acceptedByShortcut += 1;
        }
      }
    } finally {
      mutate.mockRestore();
    }
    expect(compared).toBeGreaterThan(100);
    // Accepted requests without a query string never reached the validator's mutator.
    expect(acceptedByShortcut).toBeGreaterThanOrEqual(taken.length);
  });
});
