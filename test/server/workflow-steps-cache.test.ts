// The parsed steps a WorkflowService keeps per workflow version (src/domain/workflows.ts):
// a replace made by another instance on the same database is answered at once (the
// version is part of the key, so no entry can be stale), and the shared arrays cannot be
// changed by a caller.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite, type DatabaseHandle } from '../../src/db/database.ts';
import { systemClock } from '../../src/domain/time.ts';
import { WorkflowService, type WorkflowInput } from '../../src/domain/workflows.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let other: DatabaseHandle;

beforeAll(async () => {
  server = await startTestServer();
  // A second instance's view of the same file: its own connection and its own service.
  other = openSqlite(path.join(server.dataDir, 'aetherflow.sqlite'));
});
afterAll(async () => {
  await other.close();
  await server.close();
});

const input = (message: string): WorkflowInput => ({ name: 'Cached', trigger: { type: 'manual' }, steps: [{ id: 'say', type: 'log', message, level: 'info' }] });

describe('parsed steps kept per workflow version', () => {
  it('follow a replace made by another instance at once, in GET and in the list', async () => {
    const scope = { projectId: server.projectId, environment: 'test' as const };
    const here = server.server.services.workflows;
    const there = new WorkflowService(other.db, systemClock);
    const created = await here.create(scope, input('first'));
    // Read here, so that this instance holds version 1's steps.
    expect((await here.get(scope, created.id)).steps).toEqual([{ id: 'say', type: 'log', message: 'first', level: 'info' }]);

    const replaced = await there.replace(scope, created.id, input('second'));
    expect(replaced.version).toBe(2);
    expect((await here.get(scope, created.id)).steps).toEqual([{ id: 'say', type: 'log', message: 'second', level: 'info' }]);
    const listed = (await here.list(scope, undefined, 100)).items.find((workflow) => workflow.id === created.id);
    expect(listed).toMatchObject({ version: 2, steps: [{ id: 'say', type: 'log', message: 'second', level: 'info' }] });
  });

  it('are shared between answers, so they cannot be changed', async () => {
    const scope = { projectId: server.projectId, environment: 'test' as const };
    const workflows = server.server.services.workflows;
    const created = await workflows.create(scope, input('frozen'));
    const first = await workflows.get(scope, created.id);
    expect(() => first.steps.push({ id: 'extra', type: 'wait', seconds: 1 })).toThrow(TypeError);
    expect(() => {
      (first.steps[0] as { message: string }).message = 'changed';
    }).toThrow(TypeError);
    const second = await workflows.get(scope, created.id);
    expect(second.steps).toEqual([{ id: 'say', type: 'log', message: 'frozen', level: 'info' }]);
  });
});
