// Small helpers shared by the resource suites: definitions, starting runs and
// waiting for them, walking a list page by page, and a clock tests can move.
// Everything goes through the HTTP API of the real server (test/support/server.ts).
import { expect } from 'vitest';
import type { components } from '../../generated/api.d.ts';
import { clientFor, envelopeOf, offContract, type AnyAnswer, type ListPath } from '../support/api.ts';
import type { TestServer } from '../support/server.ts';

export type Workflow = components['schemas']['Workflow'];
export type WorkflowInput = components['schemas']['WorkflowInput'];
export type WorkflowStep = components['schemas']['WorkflowStep'];
export type Run = components['schemas']['Run'];

export const TERMINAL = ['succeeded', 'failed', 'cancelled'] as const;

/** A manual workflow with these steps (and any other field overridden). */
export function definition(steps: WorkflowStep[], overrides: Partial<WorkflowInput> = {}): WorkflowInput {
  return { name: 'Order confirmation', trigger: { type: 'manual' }, steps, ...overrides };
}

export async function createWorkflow(server: TestServer, key: string, input: WorkflowInput): Promise<Workflow> {
  const response = await clientFor(server, key).POST('/v1/workflows', { body: input });
  expect(response.status, response.text).toBe(201);
  return response.data!.data;
}

export async function startRun(
  server: TestServer,
  key: string,
  workflowId: string,
  input?: Record<string, unknown>,
): Promise<Run> {
  const response = await clientFor(server, key).POST('/v1/workflows/{workflow_id}/run', {
    params: { path: { workflow_id: workflowId } },
    body: input === undefined ? {} : { input },
  });
  expect(response.status, response.text).toBe(202);
  return response.data!.data;
}

export async function getRun(server: TestServer, key: string, runId: string): Promise<Run> {
  const response = await clientFor(server, key).GET('/v1/runs/{run_id}', { params: { path: { run_id: runId } } });
  expect(response.status, response.text).toBe(200);
  return response.data!.data;
}

/** Polls GET /v1/runs/{id} until `done(run)` holds, failing after `timeoutMs`. */
export async function pollRun(
  server: TestServer,
  key: string,
  runId: string,
  done: (run: Run) => boolean,
  timeoutMs = 10_000,
): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(server, key, runId);
    if (done(run)) return run;
    if (Date.now() > deadline)
      throw new Error(
        `run ${runId} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(run)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function finished(server: TestServer, key: string, runId: string, timeoutMs?: number): Promise<Run> {
  return pollRun(server, key, runId, (run) => (TERMINAL as readonly string[]).includes(run.status), timeoutMs);
}

export function stepReached(
  server: TestServer,
  key: string,
  runId: string,
  stepId: string,
  status: Run['steps'][number]['status'],
): Promise<Run> {
  return pollRun(server, key, runId, (run) => run.steps.find((step) => step.step_id === stepId)?.status === status);
}

/**
 * Walks a list with `limit=2`, following next_cursor, and returns the ids of
 * every page. Fails on a page larger than the limit or a walk that never ends.
 */
export async function walkPages(
  server: TestServer,
  key: string,
  path: ListPath,
  query: Record<string, string> = {},
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    // One helper for every list: its filters are each list's own, so the query is not typed here.
    const params = offContract({ params: { query: { ...query, limit: 2, ...(cursor ? { cursor } : {}) } } });
    const response = await clientFor(server, key).GET(path, params);
    expect(response.status, response.text).toBe(200);
    const ids = (response.data!.data as Array<{ id: string }>).map((item) => item.id);
    expect(ids.length).toBeLessThanOrEqual(2);
    pages.push(ids);
    cursor = response.data!.next_cursor;
    if (cursor !== null) expect(ids.length).toBe(2);
    if (pages.length > 200) throw new Error(`${path}: more than 200 pages`);
  } while (cursor !== null);
  return pages;
}

/** The items of a list in one page (for comparison with a walk). */
export async function listAtOnce<T = { id: string }>(
  server: TestServer,
  key: string,
  path: ListPath,
  query: Record<string, string> = {},
): Promise<T[]> {
  const response = await clientFor(server, key).GET(path, offContract({ params: { query: { ...query, limit: 100 } } }));
  expect(response.status, response.text).toBe(200);
  expect(response.data?.next_cursor).toBeNull();
  return response.data!.data as T[];
}

/** A clock the test moves: starts at the real time and only moves when told. */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    clock: () => now,
    set(ms: number) {
      now = ms;
    },
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

/** A clock that follows real time plus an offset the test can grow (runs' waits still pass). */
export function offsetClock() {
  let offset = 0;
  return {
    clock: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

/** Expects the `/v1` error envelope with this status and code. */
export function expectError(response: AnyAnswer, status: number, code: string): void {
  expect(response.status, response.text).toBe(status);
  expect(envelopeOf(response)?.success).toBe(false);
  expect(envelopeOf(response)?.error.code).toBe(code);
}
