// The check bench/run.ts makes before measuring a baseline (bench/support/same-answers.ts):
// two real HTTP servers on loopback, one playing ours, the other a baseline that answers
// the same or not quite.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { differences, type Exchange } from '../../bench/support/same-answers.ts';

type Answer = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
const servers: http.Server[] = [];
let counter = 0;

async function serve(answer: Answer): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => answer(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const security = { 'X-Frame-Options': 'DENY', 'Strict-Transport-Security': 'max-age=63072000' };
/** Ours: a request id and a remaining count that change per request, a new id and time per POST. */
const ours: Answer = (req, res) => {
  counter += 1;
  res.writeHead(req.method === 'POST' ? 201 : 200, {
    ...security,
    'X-Request-Id': `req_${counter}`,
    'X-RateLimit-Remaining': String(1000 - counter),
    'Content-Type': 'application/json; charset=utf-8',
  });
  res.end(
    req.method === 'POST'
      ? `{"data":{"id":"wf_${counter}","name":"n","created_at":"${new Date(counter).toISOString()}"}}`
      : '{"data":{"id":"wf_1"}}',
  );
};
const exchanges: Exchange[] = [
  { name: 'GET', path: '/v1/workflows/wf_1', options: { headers: {} } },
  {
    name: 'POST',
    path: '/v1/workflows',
    options: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' },
  },
];

describe('a baseline answers what ours does', () => {
  it('agrees when only per-request values, new ids and times differ', async () => {
    expect(await differences(await serve(ours), await serve(ours), exchanges, 'values')).toEqual([]);
  });

  it('finds a body that differs, a missing header and another status', async () => {
    const other = await serve((req, res) => {
      res.writeHead(200, { 'X-Frame-Options': 'DENY', 'Content-Type': 'application/json; charset=utf-8' });
      res.end(
        req.method === 'POST' ? '{"data":{"id":"wf_9","name":"other","created_at":"x"}}' : '{"data":{"id":"wf_2"}}',
      );
    });
    const found = await differences(await serve(ours), other, exchanges, 'names');
    expect(found.map((line) => line.split('\n')[0])).toEqual([
      'GET: headers',
      'GET: body',
      'POST: status 200, ours 201',
      'POST: headers',
      'POST: body',
    ]);
  });

  it('compares header values for the floor but names only for the assembly, which may add an ETag', async () => {
    const helmetLike = await serve((req, res) => {
      counter += 1;
      res.writeHead(req.method === 'POST' ? 201 : 200, {
        'X-Frame-Options': 'SAMEORIGIN',
        'Strict-Transport-Security': 'max-age=31536000',
        'X-Request-Id': 'r',
        'X-RateLimit-Remaining': '1',
        ETag: 'W/"1"',
        'Content-Type': 'application/json; charset=utf-8',
      });
      res.end(req.method === 'POST' ? `{"data":{"id":"wf_x","name":"n","created_at":"t"}}` : '{"data":{"id":"wf_1"}}');
    });
    const url = await serve(ours);
    expect(await differences(url, helmetLike, exchanges, 'names')).toEqual([]);
    const strict = await differences(url, helmetLike, exchanges, 'values');
    expect(strict.map((line) => line.split('\n')[0])).toEqual(['GET: headers', 'POST: headers']);
  });
});
