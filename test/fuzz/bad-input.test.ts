// The bad-input corpus against the real server (response validation on): every
// operation of the contract, broken in every way test/fuzz/corpus.ts knows, then
// property-based requests derived from the schemas (test/fuzz/properties.ts).
// Never a 5xx, always the endpoint's error form, the server stays up, and the
// requests it refuses change nothing in the database but the audit log's
// failure and denial entries.
//
// `npm test` runs the CI-sized corpus (every family of bad input in every place,
// one string of each kind) and FUZZ_BUDGET (default 10) property-based requests
// per operation; `npm run test:fuzz` (FUZZ_BUDGET=300) runs every string
// everywhere and far more property-based requests.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadContractDocument } from '../support/contract-document.ts';
import { diffSnapshots, snapshotDatabase } from '../support/database-snapshot.ts';
import { rawRequest, type RawAnswer } from '../support/raw-http.ts';
import type { TestServer } from '../support/server.ts';
import { answerProblems, isRejection } from './answer-check.ts';
import { buildCorpus, type FuzzCase, type FuzzTarget } from './corpus.ts';
import { propertyCases } from './properties.ts';
import { startFuzzedServer } from './setup.ts';

const BUDGET = Number(process.env.FUZZ_BUDGET ?? 10);
/** From a budget of 100 on, every injection and unicode string goes everywhere (npm run test:fuzz). */
const THOROUGH = BUDGET >= 100;
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);
const document = loadContractDocument();

let server: TestServer;
let target: FuzzTarget;
const tally = { cases: 0, rejected: 0, accepted: 0, fiveHundreds: 0, property: 0, propertyAccepted: 0 };

beforeAll(async () => {
  ({ server, target } = await startFuzzedServer());
});
afterAll(async () => {
  console.log(
    `fuzz: ${tally.cases + tally.property} requests (${tally.cases} corpus cases: ${tally.rejected} refused, ${tally.accepted} accepted; ${tally.property} property-based at FUZZ_BUDGET=${BUDGET}, ${tally.propertyAccepted} of them accepted); 5xx seen: ${tally.fiveHundreds}`,
  );
  // The server's own account of any 5xx (stack traces stay in its logs, never in answers).
  for (const line of server?.logs.filter((l) => l.includes('"level":50')) ?? []) console.log(line.slice(0, 2000));
  await server?.close();
});

async function runAll(cases: FuzzCase[]): Promise<Array<{ fuzz: FuzzCase; answer: RawAnswer | null; error?: string }>> {
  const results: Array<{ fuzz: FuzzCase; answer: RawAnswer | null; error?: string }> = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const fuzz = cases[index]!;
      try {
        const started = Date.now();
        const answer = await rawRequest(server.baseUrl, fuzz.request);
        if (process.env.FUZZ_TIMING && Date.now() - started > Number(process.env.FUZZ_TIMING))
          console.log(`slow: ${Date.now() - started} ms ${fuzz.name}`);
        if (answer.status >= 500) tally.fiveHundreds += 1;
        results[index] = { fuzz, answer };
      } catch (error) {
        results[index] = { fuzz, answer: null, error: (error as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

function problemsOf(results: Awaited<ReturnType<typeof runAll>>, mustReject: boolean): string[] {
  const problems: string[] = [];
  for (const { fuzz, answer, error } of results) {
    if (!answer) {
      problems.push(`${fuzz.name}: no answer (${error})`);
      continue;
    }
    const found = answerProblems(document, fuzz.request, answer, fuzz.forbiddenHeaders);
    if (mustReject && !isRejection(fuzz.request, answer))
      found.push(`was accepted (${answer.status}) but must be refused`);
    for (const problem of found) problems.push(`${fuzz.name} -> ${answer.status}: ${problem}`);
  }
  return problems;
}

async function expectServerUp(): Promise<void> {
  const health = await fetch(`${server.baseUrl}/health`);
  expect(health.status).toBe(200);
}

describe('the bad-input corpus', () => {
  test('covers every operation of the contract', () => {
    const corpus = buildCorpus(document, target, { thorough: THOROUGH });
    const covered = new Set(corpus.map((c) => c.operationId));
    expect(
      document
        .operations()
        .map((o) => o.operationId)
        .filter((id) => !covered.has(id)),
    ).toEqual([]);
  });

  test(
    "requests the server must refuse are refused in the endpoint's error form, and change nothing but the audit log",
    { timeout: 300_000 },
    async () => {
      const cases = buildCorpus(document, target, { thorough: THOROUGH }).filter((c) => c.expect === 'reject');
      await server.server.runner.idle();
      await server.server.flush();
      const snapshotOptions = {
        excludeTables: ['audit_logs'],
        excludeColumns: ['api_keys.last_used_at', 'api_keys.last_used_ip'],
      };
      const before = await snapshotDatabase(server.server.database.db, snapshotOptions);
      const auditBefore = new Set(
        (await server.server.database.db.selectFrom('audit_logs').select('id').execute()).map((row) => row.id),
      );

      const results = await runAll(cases);
      tally.cases += cases.length;
      tally.rejected += cases.length;
      await server.server.runner.idle();
      await server.server.flush();

      expect(problemsOf(results, true)).toEqual([]);
      const after = await snapshotDatabase(server.server.database.db, snapshotOptions);
      expect(diffSnapshots(before, after)).toEqual([]);
      // The only intended writes: audit entries of refused credentials, denials and limits.
      const added = (
        await server.server.database.db.selectFrom('audit_logs').select(['id', 'action', 'outcome']).execute()
      ).filter((row) => !auditBefore.has(row.id));
      expect(added.filter((row) => row.outcome === 'success')).toEqual([]);
      expect(added.length).toBeGreaterThan(0);
      await expectServerUp();
    },
  );

  test(
    'requests the server may accept (injection strings in free text, unicode, deep and polluting JSON) never get a 5xx',
    { timeout: 300_000 },
    async () => {
      const cases = buildCorpus(document, target, { thorough: THOROUGH }).filter((c) => c.expect === 'any');
      const results = await runAll(cases);
      tally.cases += cases.length;
      tally.accepted += results.filter((r) => r.answer && r.answer.status < 400).length;
      tally.rejected += results.filter((r) => r.answer && r.answer.status >= 400).length;
      // Not waiting for the runs these started: the contract's examples wait 30 s and more.
      expect(problemsOf(results, false)).toEqual([]);
      await expectServerUp();
    },
  );

  test('property-based requests derived from the schemas never get a 5xx', { timeout: 600_000 }, async () => {
    const problems: string[] = [];
    for (const operation of document.operations()) {
      const found = await propertyCases(document, operation, target, BUDGET, async (request) => {
        tally.property += 1;
        const answer = await rawRequest(server.baseUrl, request);
        if (answer.status >= 500) tally.fiveHundreds += 1;
        if (answer.status < 400) tally.propertyAccepted += 1;
        return answerProblems(document, request, answer);
      });
      problems.push(...found);
    }
    expect(problems).toEqual([]);
    await expectServerUp();
  });

  test('nothing was polluted: Object.prototype is as it was, in the process that served every request', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(probe.isAdmin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
