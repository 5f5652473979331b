// docs/rate-limits.md is the published guide: its tables must say what the server enforces.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  AUTH_METHODS,
  GUARD_KINDS,
  loadRateLimitConfig,
  PLANS,
  PRINCIPAL_CATEGORIES,
  type PolicyConfig,
} from '../../src/rate-limit/index.ts';
import { CONFIG_PATH, DOCS_PATH } from './support.ts';

/** The guide lists credentials from the most to the least common. */
const DOCUMENTED_AUTH_ORDER = ['api_key', 'oauth', 'jwt'] as const;

type Row = [name: string, plan: string, limit: string, window: string];

function windowText(seconds: number): string {
  const [amount, unit] =
    seconds % 86_400 === 0
      ? [seconds / 86_400, 'day']
      : seconds % 3600 === 0
        ? [seconds / 3600, 'hour']
        : seconds % 60 === 0
          ? [seconds / 60, 'minute']
          : [seconds, 'second'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

const row = (policy: PolicyConfig, plan = 'any'): Row => [
  policy.name,
  plan,
  policy.limit.toLocaleString('en-US'),
  windowText(policy.windowSeconds),
];

function documentedRows(): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(DOCS_PATH, 'utf8').split('\n')) {
    const match = /^\| `([a-z0-9-]+)` \| ([a-z]+) \| .+ \| ([\d,]+) \| ([^|]+) \|$/.exec(line);
    if (match) rows.push([match[1] ?? '', match[2] ?? '', match[3] ?? '', (match[4] ?? '').trim()]);
  }
  return rows;
}

it('the limit tables of docs/rate-limits.md are the policies of config/rate-limits.yaml', () => {
  const config = loadRateLimitConfig(CONFIG_PATH);
  expect(documentedRows()).toEqual([
    ...PLANS.flatMap((plan) => config.plans[plan].map((policy) => row(policy, plan))),
    ...PRINCIPAL_CATEGORIES.map((category) => row(config.categories[category])),
    row(config.eventsPerClientIp),
    ...DOCUMENTED_AUTH_ORDER.map((method) => row(config.authMethods[method])),
    ...GUARD_KINDS.map((kind) => row(config.guards[kind])),
  ]);
  expect([...DOCUMENTED_AUTH_ORDER].sort()).toEqual([...AUTH_METHODS].sort());
});
