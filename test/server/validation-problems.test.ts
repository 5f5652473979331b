// A refused body lists every problem with its location (src/http/validation-problems.ts),
// not only the contract validator's first one; an unknown `type` names the allowed
// ones; a body with a great many problems lists a bounded number of them. The real
// server, real HTTP.
import { describe, expect, it } from 'vitest';
import { MAX_PROBLEMS } from '../../src/http/validation-problems.ts';
import { offContract, useTestServer } from '../support/api.ts';

const api = useTestServer();

interface Issue {
  location: string;
  message: string;
}

async function refused(
  path: '/v1/workflows' | '/v1/auth/api-keys',
  body: unknown,
): Promise<{ message: string; details: Issue[] }> {
  const response = await api.client.POST(path, { body: offContract(body) });
  expect(response.status, response.text).toBe(400);
  expect(response.error?.error.code).toBe('validation_failed');
  return response.error!.error as { message: string; details: Issue[] };
}

describe('every problem of a refused body, each with its location', () => {
  it('lists problems in different places of one workflow at once', async () => {
    const error = await refused('/v1/workflows', {
      name: '',
      trigger: { type: 'manual' },
      steps: [
        { id: 'greet', type: 'log' },
        { id: 'pause', type: 'wait', seconds: 301 },
      ],
      owner: 'me',
    });
    expect(error.details).toEqual([
      { location: 'body.name', message: 'must NOT have fewer than 1 characters' },
      { location: 'body.steps[0].message', message: 'is required' },
      { location: 'body.steps[1].seconds', message: expect.stringContaining('300') },
      {
        location: 'body.owner',
        message: 'is not a field here (the fields are name, description, status, trigger, steps)',
      },
    ]);
    expect(error.message).toBe('body.name must NOT have fewer than 1 characters (and 3 more problems, see details)');
  });

  it('names the allowed step types and trigger types for an unknown one', async () => {
    const error = await refused('/v1/workflows', {
      name: 'x',
      trigger: { type: 'cron' },
      steps: [{ id: 'call', type: 'http', url: 'https://example.com' }],
    });
    expect(error.details).toEqual([
      { location: 'body.trigger.type', message: 'must be one of manual, event' },
      { location: 'body.steps[0].type', message: 'must be one of set, wait, log, fail' },
    ]);
  });

  it('says which variant a step without a type could be', async () => {
    const error = await refused('/v1/workflows', { name: 'x', trigger: { type: 'manual' }, steps: [{ id: 'what' }] });
    expect(error.details).toEqual([
      { location: 'body.steps[0].type', message: 'is required: one of set, wait, log, fail' },
    ]);
  });

  it('names the allowed values of an enum, and checks the other operations the same way', async () => {
    const error = await refused('/v1/auth/api-keys', {
      name: '',
      type: 'secret',
      scopes: ['workflows:read', 'nope'],
      expires_at: 'tomorrow',
    });
    expect(error.details.map((issue) => issue.location)).toEqual(['body.name', 'body.scopes[1]', 'body.expires_at']);
    expect(error.details[1]?.message).toMatch(/^must be one of workflows:read, workflows:write, .*usage:read/);
  });

  it('keeps the contract validator as the judge: a valid body is not refused, a wrong type of body is one problem', async () => {
    const accepted = await api.client.POST('/v1/workflows', {
      body: { name: 'ok', trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'm' }] },
    });
    expect(accepted.status).toBe(201);
    expect((await refused('/v1/workflows', [1, 2])).details).toEqual([{ location: 'body', message: 'must be object' }]);
  });

  it(`lists at most ${MAX_PROBLEMS} problems of a body with hundreds of thousands`, async () => {
    const steps = Array.from({ length: 200_000 }, () => ({}));
    const error = await refused('/v1/workflows', { name: 'x', trigger: { type: 'manual' }, steps });
    expect(error.details.length).toBe(MAX_PROBLEMS);
    expect(error.details[0]).toEqual({ location: 'body.steps', message: 'must NOT have more than 50 items' });
    expect(error.details[1]).toEqual({
      location: 'body.steps[0].type',
      message: 'is required: one of set, wait, log, fail',
    });
  });

  it('leaves query parameter problems as the validator states them', async () => {
    const response = await api.client.GET('/v1/workflows', { params: { query: { limit: 0 } } });
    expect(response.status).toBe(400);
    expect(response.error?.error.details).toEqual([{ location: 'query.limit', message: 'must be >= 1' }]);
  });
});
