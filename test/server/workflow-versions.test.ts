// The workflows a WorkflowService keeps as answered, per workflow version
// (src/domain/workflows.ts), and their JSON text (src/json-text.ts): a replace made by
// another instance on the same database is answered at once (the version is part of the
// key, so no entry can be stale), the shared objects cannot be changed by a caller, and
// bodies carrying them are written exactly as JSON.stringify writes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { WorkflowRepository } from '../../src/db/repositories/workflows.ts';
import { transactionOn } from '../../src/db/transaction.ts';
import { systemClock } from '../../src/domain/time.ts';
import { WorkflowService, type WorkflowInput } from '../../src/domain/workflows.ts';
import { jsonText, withJsonText } from '../../src/json-text.ts';
import { useTestServer } from '../support/api.ts';

// The production configuration: answers written by src/http/send-json.ts, not res.json.
const api = useTestServer({ env: { VALIDATE_RESPONSES: 'false' } });
let other: DatabaseHandle;

beforeAll(async () => {
  // A second instance's view of the same database (the SQLite file, or CI's PostgreSQL):
  // its own connection and its own service.
  other = await openDatabase(api.server.config);
});
afterAll(async () => {
  await other.close();
});

const input = (message: string): WorkflowInput => ({
  name: 'Cached',
  trigger: { type: 'manual' },
  steps: [{ id: 'say', type: 'log', message, level: 'info' }],
});

describe('workflows kept per version', () => {
  it('follow a replace made by another instance at once, in GET and in the list', async () => {
    const scope = { projectId: api.server.projectId, environment: 'test' as const };
    const here = api.server.server.services.workflows;
    const there = new WorkflowService(new WorkflowRepository(other.db), systemClock);
    const created = await api.server.server.services.transaction((tx) => here.create(scope, input('first'), tx));
    // Read here, so that this instance holds version 1's steps.
    expect((await here.get(scope, created.id)).steps).toEqual([
      { id: 'say', type: 'log', message: 'first', level: 'info' },
    ]);

    const replaced = await transactionOn(other.db)((tx) => there.replace(scope, created.id, input('second'), tx));
    expect(replaced.version).toBe(2);
    expect((await here.get(scope, created.id)).steps).toEqual([
      { id: 'say', type: 'log', message: 'second', level: 'info' },
    ]);
    const listed = (await here.list(scope, undefined, 100)).items.find((workflow) => workflow.id === created.id);
    expect(listed).toMatchObject({ version: 2, steps: [{ id: 'say', type: 'log', message: 'second', level: 'info' }] });
  });

  it('are shared between answers, so they cannot be changed', async () => {
    const scope = { projectId: api.server.projectId, environment: 'test' as const };
    const workflows = api.server.server.services.workflows;
    const created = await api.server.server.services.transaction((tx) => workflows.create(scope, input('frozen'), tx));
    const first = await workflows.get(scope, created.id);
    expect(() => first.steps.push({ id: 'extra', type: 'wait', seconds: 1 })).toThrow(TypeError);
    expect(() => {
      (first.steps[0] as { message: string }).message = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (first as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    const second = await workflows.get(scope, created.id);
    expect(second.steps).toEqual([{ id: 'say', type: 'log', message: 'frozen', level: 'info' }]);
    expect(second.name).toBe('Cached');
    expect(jsonText(second)).toBe(JSON.stringify(second));
  });

  it('are answered over HTTP with exactly the text JSON.stringify writes, after a replace too', async () => {
    const created = await api.client.POST('/v1/workflows', { body: input('over http') });
    const id = created.data!.data.id;
    for (const [message, version] of [
      ['over http', 1],
      ['replaced \u2028 "quoted" \\ é', 2],
    ] as const) {
      if (version === 2)
        expect(
          (
            await api.client.PUT('/v1/workflows/{workflow_id}', {
              params: { path: { workflow_id: id } },
              body: input(message),
            })
          ).status,
        ).toBe(200);
      const get = await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } });
      const list = await api.client.GET('/v1/workflows');
      for (const answer of [get, list]) {
        expect(answer.status).toBe(200);
        expect(answer.text).toBe(JSON.stringify(JSON.parse(answer.text)));
        expect(Number(answer.headers.get('content-length'))).toBe(Buffer.byteLength(answer.text));
      }
      expect(get.data?.data).toMatchObject({ id, version, steps: [{ message }] });
      expect(list.data?.data.find((workflow: { id: string }) => workflow.id === id)).toMatchObject({
        version,
        steps: [{ message }],
      });
    }
  });
});

describe('list pages', () => {
  it('are the same, page by page and cursor by cursor, whether their versions are kept or not; kept ones read no other columns', async () => {
    // The live environment, where only this test creates workflows.
    const scope = { projectId: api.server.projectId, environment: 'live' as const };
    const statements: string[] = [];
    const observed = await openDatabase(api.server.config, (sql) => statements.push(sql));
    try {
      const warm = new WorkflowService(new WorkflowRepository(observed.db), systemClock);
      for (let i = 0; i < 12; i++)
        await transactionOn(observed.db)((tx) =>
          warm.create(scope, { ...input(`page ${i}`), ...(i % 3 === 0 ? { status: 'paused' as const } : {}) }, tx),
        );
      for (const status of [undefined, 'paused', 'active'] as const) {
        const cold = new WorkflowService(new WorkflowRepository(other.db), systemClock);
        let cursor: string | undefined;
        let pages = 0;
        do {
          statements.length = 0;
          const fromWarm = await warm.list(scope, status, 3, cursor);
          const fromCold = await cold.list(scope, status, 3, cursor);
          expect(fromWarm).toEqual(fromCold);
          expect(jsonText(fromWarm)).toBe(JSON.stringify(fromCold));
          // Every workflow of this scope was created (so kept) by `warm`: its pages are
          // answered from one query that reads none of the other columns.
          expect(statements).toHaveLength(1);
          expect(statements[0]).not.toMatch(/"steps"/);
          cursor = fromWarm.nextCursor ?? undefined;
          pages++;
        } while (cursor !== undefined);
        expect(pages).toBeGreaterThan(1);
      }
    } finally {
      await observed.close();
    }
  });
});

describe('the memory kept', () => {
  it('stays within its budget of JSON text, oldest out, and a version too large is answered but not kept', async () => {
    const scope = { projectId: api.server.projectId, environment: 'test' as const };
    const workflows = new WorkflowService(new WorkflowRepository(other.db), systemClock, {
      kept: { textBudget: 20_000, textPerEntry: 8_000 },
    });
    // Valid definitions as the contract bounds them (a set step's value: up to 10,000 characters).
    const sized = (characters: number, label: string): WorkflowInput => ({
      name: label,
      trigger: { type: 'manual' },
      steps: [{ id: 'big', type: 'set', values: { v: `${label} ${'x'.repeat(characters)}` } }],
    });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await transactionOn(other.db)((tx) => workflows.create(scope, sized(3_000, `n${i}`), tx))).id);
    let kept = workflows.keptVersions();
    // Each is ~3.3k characters of JSON: 6 fit in 20,000, the 4 oldest went out.
    expect(kept.textCharacters).toBeLessThanOrEqual(20_000);
    expect(kept.count).toBe(6);
    // An evicted version is read again from the database, intact.
    expect((await workflows.get(scope, ids[0]!)).steps[0]).toMatchObject({ values: { v: `n0 ${'x'.repeat(3_000)}` } });

    kept = workflows.keptVersions();
    const large = await transactionOn(other.db)((tx) => workflows.create(scope, sized(9_000, 'large'), tx));
    expect(workflows.keptVersions()).toEqual(kept);
    const read = await workflows.get(scope, large.id);
    expect(read.steps[0]).toMatchObject({ values: { v: `large ${'x'.repeat(9_000)}` } });
    expect(jsonText({ data: read })).toBe(JSON.stringify({ data: read }));
    expect(workflows.keptVersions()).toEqual(kept);
  });
});

describe('jsonText', () => {
  class WithToJson {
    toJSON() {
      return { replaced: true };
    }
  }
  const frozen = withJsonText({
    b: 1,
    a: [1, 'x', null],
    nested: { deep: { deeper: [{ x: 1 }] } },
    text: 'quote " backslash \\ line\u2028 é 😀',
  });
  const bodies: unknown[] = [
    null,
    0,
    -0,
    1.5e300,
    Number.NaN,
    'text',
    true,
    [],
    {},
    { success: true, data: frozen },
    { success: true, data: [frozen, frozen, { plain: 1 }], next_cursor: null },
    { data: [undefined, () => 1, Symbol('s'), null, frozen] },
    {
      a: undefined,
      b: () => 1,
      c: Symbol('s'),
      d: 1,
      '': 'empty key',
      '"q"': 'quoted key',
      2: 'integer key first',
      1: 'then 1',
    },
    { date: new Date(0), boxed: new String('boxed'), custom: new WithToJson(), map: new Map([[1, 2]]) },
    { deep: { deeper: { deepest: { frozen, list: [frozen] } } } },
    [[frozen], [[frozen]]],
    { nullProto: Object.assign(Object.create(null) as object, { z: 1, a: 2 }) },
    { toJSON: () => ({ replacedAtTheTop: true }) },
    { data: { toJSON: () => [frozen] } },
    Object.assign([1, 2], { extra: 'ignored by JSON' }),
  ];

  it.each(bodies.map((body, i) => [i, body] as const))('writes body %i exactly as JSON.stringify does', (_i, body) => {
    expect(jsonText(body)).toBe(JSON.stringify(body));
  });

  it('uses the attached text, which a frozen object cannot contradict', () => {
    expect(Object.isFrozen(frozen) && Object.isFrozen(frozen.a) && Object.isFrozen(frozen.nested.deep.deeper[0])).toBe(
      true,
    );
    expect(Object.keys(frozen)).toEqual(['b', 'a', 'nested', 'text']);
    // The text is the object's own: a look-alike without it is serialised afresh.
    const copy = JSON.parse(JSON.stringify(frozen)) as typeof frozen;
    expect(jsonText({ data: copy })).toBe(jsonText({ data: frozen }));
  });
});
