// The contract suite: runs every scenario against a target (the Prism mock, the
// real server, the server behind `prism proxy --errors`) and checks each answer
// against the contract itself, not against hand-written expectations:
//
//   valid call        -> the scenario's status, body and headers as documented
//   no credential     -> 401 in the error envelope with WWW-Authenticate (secured operations)
//   each invalid call -> a documented 4xx, body as documented for it
//   each named example (mock only) -> reachable with `Prefer: code=..., example=...`
//
// Usage (one file per target):
//   defineContractSuite({ name: 'prism mock', start: async () => ({ ...target, close }), scenarios });
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  contractDocumentPath,
  essenceOf,
  isJsonMediaType,
  loadContractDocument,
  type ContractDocument,
} from '../support/contract-document.ts';
import { insufficientScopeMessage } from '../../src/mock/front.ts';
import { createApiClient, exchangeOf } from './clients.ts';
import type { ApiClient, CallResult, ContractTarget, Scenario, ScenarioContext } from './scenario.ts';

export type StartedTarget = ContractTarget & { close(): Promise<void> };

export interface ContractSuiteOptions {
  /** The top-level `describe`, e.g. `prism mock`. */
  name: string;
  /**
   * True for the Prism mock. Known when the suite is defined (before the target starts),
   * so tests that apply to one kind of target only are not defined at all for the other:
   * nothing is skipped.
   */
  mock: boolean;
  /**
   * False when the target answers requests without a credential itself instead of
   * forwarding them: Prism does, even in proxy mode with request validation off, so
   * behind `prism proxy` the 401 tests would test Prism. The direct server suite has them.
   */
  forwardsUnauthenticated?: boolean;
  /** Starts the target; called once in beforeAll. `close` is called in afterAll. */
  start(): Promise<StartedTarget>;
  scenarios: Scenario[];
  /** The bundled contract to check against; contractDocumentPath() by default. */
  document?: string;
}

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let uniqueCounter = 0;

/** A value unique within the run: `prefix` + run id + counter, e.g. `Report lz3k9a1b2c-7`. */
export function unique(prefix: string): string {
  uniqueCounter += 1;
  return `${prefix}${runId}-${uniqueCounter}`;
}

export function scenarioContext(target: ContractTarget, api: ApiClient): ScenarioContext {
  return { target, api, admin: target.client, unique };
}

export function defineContractSuite(options: ContractSuiteOptions): void {
  describe(options.name, () => {
    const contract = loadContractDocument(options.document ?? contractDocumentPath());
    let started: StartedTarget | undefined;

    beforeAll(async () => {
      started = await options.start();
    });
    afterAll(async () => {
      await started?.close();
    });

    const target = (): StartedTarget => {
      if (!started) throw new Error(`the ${options.name} target did not start (see the beforeAll error)`);
      return started;
    };

    if (options.scenarios.length === 0) {
      test.todo('no scenarios yet: add them to test/contract/scenarios/index.ts');
      return;
    }

    for (const scenario of options.scenarios) {
      describe(scenario.operationId, () => {
        if (!contract.hasOperation(scenario.operationId)) {
          test('names an operation of the contract', () => {
            throw new Error(`The contract ${contract.file} has no operation ${scenario.operationId}`);
          });
          return;
        }
        defineScenarioTests(contract, scenario, target, options.mock, options.forwardsUnauthenticated ?? true);
      });
    }
  });
}

function defineScenarioTests(
  contract: ContractDocument,
  scenario: Scenario,
  target: () => StartedTarget,
  mock: boolean,
  unauthenticated: boolean,
): void {
  const operation = contract.operation(scenario.operationId);
  const operationId = scenario.operationId;

  test(`valid call -> ${scenario.status}`, async () => {
    const t = target();
    const result = await run(`${operationId}: the valid call`, () => scenario.call(scenarioContext(t, t.client)));
    const problems = [
      ...calledOperationProblems(contract, operationId, t.baseUrl, result),
      ...responseProblems(contract, operationId, result, scenario.status),
    ];
    failOn(problems, `${operationId}: the valid call`, result);
  });

  if (operation.secured && unauthenticated) {
    test('without a credential -> 401 authentication_required', async () => {
      const t = target();
      const result = await run(`${operationId}: the call without a credential`, () =>
        scenario.call(scenarioContext(t, t.anonymous)),
      );
      const problems = responseProblems(contract, operationId, result, 401);
      if (result.response.status === 401) {
        if (!result.response.headers.get('www-authenticate'))
          problems.push('a 401 must carry WWW-Authenticate (RFC 6750)');
        const body = parsedBody(result);
        if (operation.path.startsWith('/v1/')) {
          const code = (body.value as { error?: { code?: unknown } } | undefined)?.error?.code;
          if (code !== 'authentication_required') {
            problems.push(
              `a request without any credential must get error.code authentication_required, got ${JSON.stringify(code)}`,
            );
          }
        }
      }
      failOn(problems, `${operationId}: the call without a credential`, result);
    });
  }

  for (const invalid of scenario.invalid) {
    if (mock && invalid.notOnMock) continue;
    test(`invalid: ${invalid.name} -> ${invalid.status ?? 'a documented 4xx'}`, async () => {
      const t = target();
      const result = await run(`${operationId}: invalid call "${invalid.name}"`, () =>
        invalid.call(scenarioContext(t, t.client)),
      );
      const status = result.response.status;
      const problems: string[] = [];
      if (invalid.status === undefined && (status < 400 || status > 499)) {
        problems.push(`expected a documented 4xx, got ${status}`);
      } else {
        problems.push(
          ...calledOperationProblems(contract, operationId, t.baseUrl, result),
          ...responseProblems(contract, operationId, result, invalid.status ?? status),
        );
      }
      failOn(problems, `${operationId}: invalid call "${invalid.name}"`, result);
    });
  }

  // Mock only: every named example must be reachable, so frontend teams can use them all.
  if (!mock) return;
  for (const example of contract.namedExamples(operationId)) {
    if (!/^\d{3}$/.test(example.status)) continue; // ranges (4XX) cannot be asked for by code
    const status = Number(example.status);
    test(`mock serves example ${example.status} ${example.name}`, async () => {
      const t = target();
      const api = createApiClient({
        baseUrl: t.baseUrl,
        credential: t.credential,
        // Prism needs `code` with `example`: `example` alone is only looked for among the 2XX.
        headers: { Prefer: `code=${status}, example=${example.name}`, Accept: example.mediaType },
      });
      const what = `${operationId}: Prefer code=${status}, example=${example.name}`;
      const result = await run(what, () => scenario.call(scenarioContext(t, api)));
      failOn(responseProblems(contract, operationId, result, status), what, result);
      const body = parsedBody(result);
      if (isJsonMediaType(example.mediaType)) {
        expect(body.value, `${what}: the body must be the example's value`).toEqual(
          servedExample(contract, operationId, example.value),
        );
      } else {
        expect(body.text, `${what}: the body must be the example's text`).toBe(example.value);
      }
    });
  }
}

/**
 * What the mock serves for an example: the example itself, except that an
 * insufficient_scope names the operation's own scopes, as the server would
 * (src/mock/front.ts).
 */
function servedExample(contract: ContractDocument, operationId: string, value: unknown): unknown {
  const error = (value as { error?: { code?: unknown } } | null)?.error;
  if (error?.code !== 'insufficient_scope') return value;
  const scopes = contract.operation(operationId).scopes;
  if (scopes.length === 0) return value;
  return { ...(value as object), error: { ...error, message: insufficientScopeMessage(scopes) } };
}

/** Runs a scenario's call; an exception (network, openapi-fetch parsing) becomes a readable failure. */
async function run(what: string, call: () => Promise<CallResult>): Promise<CallResult> {
  let result: CallResult;
  try {
    result = await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      error instanceof SyntaxError
        ? " (openapi-fetch parses 2XX bodies as JSON: pass `parseAs: 'text'` for HTML or other non-JSON responses)"
        : '';
    throw new Error(`${what}: the call threw ${message}${hint}`, { cause: error });
  }
  if (typeof result?.response?.status !== 'number') {
    throw new Error(
      `${what}: the call must return what openapi-fetch returns ({ data, error, response }), got ${inspect(result, { depth: 1 })}`,
    );
  }
  return result;
}

/** The body as it came over the wire, and parsed when it is JSON. */
interface ParsedBody {
  text: string;
  contentType: string | null;
  /** Parsed JSON for JSON media types, the text for others, undefined when empty. */
  value: unknown;
  /** Set when the body claims to be JSON but is not. */
  parseError?: string;
}

export function parsedBody(result: CallResult): ParsedBody {
  const contentType = result.response.headers.get('content-type');
  const exchange = exchangeOf(result.response);
  // Clients not built by createApiClient: fall back on what openapi-fetch parsed.
  const fallback = result.data ?? result.error;
  const text =
    exchange?.text ??
    (fallback === undefined ? '' : typeof fallback === 'string' ? fallback : JSON.stringify(fallback));
  if (text === '') return { text, contentType, value: undefined };
  if (contentType && isJsonMediaType(contentType)) {
    try {
      return { text, contentType, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { text, contentType, value: text, parseError: (error as Error).message };
    }
  }
  return { text, contentType, value: text };
}

/** Status, body and declared headers of a response against the contract. */
export function responseProblems(
  contract: ContractDocument,
  operationId: string,
  result: CallResult,
  expectedStatus: number,
): string[] {
  const status = result.response.status;
  if (status !== expectedStatus) return [`expected status ${expectedStatus}, got ${status}`];
  if (!contract.isDocumentedStatus(operationId, status)) {
    const documented = Object.keys(contract.operation(operationId).responses).join(', ');
    return [`status ${status} is not documented for ${operationId} (documented: ${documented})`];
  }
  const body = parsedBody(result);
  const problems: string[] = [];
  if (body.parseError) {
    problems.push(`the body is declared as ${body.contentType} but is not JSON: ${body.parseError}`);
  } else {
    problems.push(...contract.validateBody(operationId, status, body.contentType, body.value));
  }
  problems.push(...contract.validateHeaders(operationId, status, result.response.headers));
  return problems;
}

/** The request must reach the scenario's own operation, or the suite checks the wrong thing. */
function calledOperationProblems(
  contract: ContractDocument,
  operationId: string,
  baseUrl: string,
  result: CallResult,
): string[] {
  const exchange = exchangeOf(result.response);
  if (!exchange) return [];
  const basePath = new URL(baseUrl).pathname.replace(/\/$/, '');
  const pathname = new URL(exchange.url).pathname.slice(basePath.length);
  const reached = contract.matchOperation(exchange.method, pathname);
  if (reached?.operationId === operationId) return [];
  return [
    `the scenario called ${exchange.method} ${pathname}, which is ${reached ? reached.operationId : 'no operation of the contract'}, not ${operationId}`,
  ];
}

const SHOWN_BODY = 2_000;

/** Throws one readable error listing every problem, with the exchange that caused them. */
function failOn(problems: string[], what: string, result: CallResult): void {
  if (problems.length === 0) return;
  const exchange = exchangeOf(result.response);
  const body = parsedBody(result);
  const lines = [`${what}:`, ...problems.map((problem) => `  - ${problem}`), ''];
  if (exchange) {
    lines.push(`request:  ${exchange.method} ${exchange.url}`);
    if (exchange.requestBody) lines.push(`          ${truncate(exchange.requestBody, 500)}`);
  }
  lines.push(
    `response: ${result.response.status} ${body.contentType ? essenceOf(body.contentType) : '(no Content-Type)'}`,
  );
  const violations = result.response.headers.get('sl-violations');
  if (violations) lines.push(`sl-violations: ${truncate(violations, 1_000)}`);
  lines.push(body.text ? truncate(body.text, SHOWN_BODY) : '(empty body)');
  throw new Error(lines.join('\n'));
}

function truncate(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}... (${text.length} characters)` : text;
}
