// Shared by the rate-limit tests: the real policy file, a clock the test moves, and
// subjects. No part of the engine is mocked.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  BruteForceGuard,
  InMemoryRateLimitStore,
  parseRateLimitConfig,
  RateLimiter,
  type RateLimitConfig,
  type RateLimitSubject,
} from '../../src/rate-limit/index.ts';

export const CONFIG_PATH = fileURLToPath(new URL('../../config/rate-limits.yaml', import.meta.url));
export const DOCS_PATH = fileURLToPath(new URL('../../docs/rate-limits.md', import.meta.url));

/** 2026-11-27T09:50:00Z, on a minute (and hour-bucket) boundary. */
export const T0 = 1_795_773_000_000;

/** The default policy file as plain data, for tests that change a field and re-validate. */
export function defaultDocument(): Record<string, unknown> {
  return parse(readFileSync(CONFIG_PATH, 'utf8')) as Record<string, unknown>;
}

/** The default file with some policies' limits replaced, addressed by their path. */
export function configWithLimits(limits: Readonly<Record<string, number>>): RateLimitConfig {
  const document = defaultDocument();
  for (const [path, limit] of Object.entries(limits)) {
    let node: unknown = document;
    for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
    (node as Record<string, unknown>)['limit'] = limit;
  }
  return parseRateLimitConfig(document);
}

export function defaultConfig(): RateLimitConfig {
  return parseRateLimitConfig(defaultDocument());
}

export class TestClock {
  constructor(public nowMs: number = T0) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function setup(config: RateLimitConfig = defaultConfig(), startMs: number = T0) {
  const clock = new TestClock(startMs);
  const store = new InMemoryRateLimitStore();
  const limiter = new RateLimiter({ config, store, now: clock.now });
  const guard = new BruteForceGuard({ config, store, now: clock.now });
  return { clock, store, limiter, guard, config };
}

export function subject(overrides: Partial<RateLimitSubject> = {}): RateLimitSubject {
  return {
    category: 'read',
    plan: 'free',
    accountId: 'acc_A',
    authMethod: 'api_key',
    principalId: 'key_A1',
    clientIp: '203.0.113.10',
    ...overrides,
  };
}

/** Sends `count` requests at the current instant; returns how many were admitted. */
export async function send(limiter: RateLimiter, who: RateLimitSubject, count: number): Promise<number> {
  let admitted = 0;
  for (let i = 0; i < count; i += 1) if ((await limiter.consume(who)).allowed) admitted += 1;
  return admitted;
}
