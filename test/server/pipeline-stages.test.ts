// src/http/pipeline.ts runs the stages as Express's router would: in order, and
// any failure (an error passed to next, a throw, a rejected promise) skips the
// rest and reaches the app's error handler. Shown on a real Express app on loopback.
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pipeline } from '../../src/http/pipeline.ts';

let base: string;
let close: () => Promise<void>;
const seen: string[] = [];

const mark =
  (name: string): RequestHandler =>
  (_req, _res, next) => {
    seen.push(name);
    next();
  };
const failing: Record<string, RequestHandler> = {
  next: (_req, _res, next) => next(new Error('passed to next')),
  throw: () => {
    throw new Error('thrown');
  },
  reject: async () => {
    await Promise.resolve();
    throw new Error('rejected');
  },
  later: (_req, _res, next) => void setTimeout(() => next(new Error('passed to next later')), 1),
};

beforeAll(async () => {
  const app = express();
  app.use((req, _res, next) => {
    seen.length = 0;
    next();
  });
  for (const [name, stage] of Object.entries(failing)) {
    app.use(`/${name}`, pipeline([mark('a'), stage, mark('never')]));
  }
  app.use(
    '/ok',
    pipeline([mark('a'), (_req, _res, next) => setImmediate(next), mark('b'), (_req, res) => res.json({ seen })]),
  );
  app.use('/empty', pipeline([]));
  app.use('/fall-through', pipeline([mark('a')]));
  app.use((_req, res) => res.status(404).json({ fellThrough: true, seen }));
  const handler: ErrorRequestHandler = (error: Error, _req, res, _next) =>
    res.status(500).json({ error: error.message, seen });
  app.use(handler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

test('stages run in order, across asynchronous turns, until one answers', async () => {
  const response = await fetch(`${base}/ok`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ seen: ['a', 'b'] });
});

test.each([
  ['next', 'passed to next'],
  ['throw', 'thrown'],
  ['reject', 'rejected'],
  ['later', 'passed to next later'],
])('a stage failing by %s skips the rest and reaches the error handler', async (name, message) => {
  const response = await fetch(`${base}/${name}`);
  expect(response.status).toBe(500);
  expect(await response.json()).toEqual({ error: message, seen: ['a'] });
});

test('a pipeline whose stages all pass on hands the request to what follows it', async () => {
  for (const [path, expected] of [
    ['/empty', []],
    ['/fall-through', ['a']],
  ] as const) {
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ fellThrough: true, seen: expected });
  }
});
