import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRateLimitConfig, parseRateLimitConfig, RateLimitConfigError } from '../../src/rate-limit/index.ts';
import { CONFIG_PATH, defaultDocument } from './support.ts';

const minute = (name: string, limit: number) => ({ name, limit, windowSeconds: 60 });
const hour = (name: string, limit: number) => ({ name, limit, windowSeconds: 3600 });

/** The issues a document is refused with. */
function issuesOf(document: unknown): readonly string[] {
  try {
    parseRateLimitConfig(document);
  } catch (error) {
    if (error instanceof RateLimitConfigError) return error.issues;
    throw error;
  }
  throw new Error('the document was accepted');
}

type Node = Record<string, unknown>;

/** The default document with the field at a dotted path (`plans.free.1.name`) set, or removed when `value` is REMOVE. */
const REMOVE = Symbol('remove');
function edited(...edits: [path: string, value: unknown][]): Node {
  const document = defaultDocument();
  for (const [path, value] of edits) {
    const parts = path.split('.');
    const last = parts.pop() ?? '';
    let node = document;
    for (const part of parts) node = node[part] as Node;
    if (value === REMOVE) delete node[last];
    else node[last] = value;
  }
  return document;
}

describe('config/rate-limits.yaml', () => {
  it('reproduces the table of PRODUCT.md exactly, plus the documented guards', () => {
    expect(loadRateLimitConfig(CONFIG_PATH)).toEqual({
      bucketsPerWindow: 60,
      categories: { read: minute('read', 1000), write: minute('write', 100), execute: minute('execute', 500) },
      eventsPerClientIp: minute('events-ip', 10_000),
      plans: {
        free: [minute('plan-minute', 60), hour('plan-hour', 1000)],
        pro: [minute('plan-minute', 300), hour('plan-hour', 10_000)],
        enterprise: [minute('plan-minute', 1000), hour('plan-hour', 50_000)],
      },
      authMethods: { api_key: hour('api-key', 1000), oauth: hour('oauth-token', 5000), jwt: hour('jwt', 2000) },
      guards: {
        login: { name: 'login', limit: 10, windowSeconds: 900 },
        failed_credentials: minute('failed-credentials', 20),
        leaked_key_reports: minute('leaked-key-reports', 10),
      },
    });
  });
});

describe('parseRateLimitConfig', () => {
  it('refuses unknown fields at every level, naming them', () => {
    expect(issuesOf(edited(['extra', 1]))).toEqual([
      'extra: unknown field (expected one of version, sliding_window, categories, events_per_client_ip, plans, auth_methods, guards)',
    ]);
    expect(issuesOf(edited(['categories.read.limt', 5]))).toEqual([
      'categories.read.limt: unknown field (expected one of name, limit, window)',
    ]);
    expect(issuesOf(edited(['plans.trial', []]))).toEqual([
      'plans.trial: unknown field (expected one of free, pro, enterprise)',
    ]);
    expect(issuesOf(edited(['auth_methods.api_key.burst', 2]))).toEqual([
      'auth_methods.api_key.burst: unknown field (expected one of name, limit, window)',
    ]);
  });

  it('refuses missing fields', () => {
    expect(issuesOf(edited(['guards.login', REMOVE]))).toEqual(['guards: missing field "login"']);
    expect(issuesOf(edited(['categories.write.window', REMOVE]))).toEqual(['categories.write: missing field "window"']);
    expect(issuesOf(edited(['version', REMOVE]))).toEqual(['(top level): missing field "version"']);
    expect(issuesOf(edited(['plans', REMOVE], ['sliding_window', REMOVE]))).toEqual([
      '(top level): missing field "sliding_window"',
      '(top level): missing field "plans"',
    ]);
    expect(issuesOf(edited(['sliding_window.buckets_per_window', REMOVE]))).toEqual([
      'sliding_window: missing field "buckets_per_window"',
    ]);
  });

  it.each([
    [0, '0'],
    [-5, '-5'],
    [1.5, '1.5'],
    ['100', '"100"'],
    [null, 'null'],
    [2_000_000_000, '2000000000'],
  ])('refuses the limit %j', (limit, shown) => {
    const issues = issuesOf(edited(['categories.write.limit', limit]));
    expect(issues).toEqual([
      `categories.write.limit: must be a whole number from 1 to 1000000000, got ${typeof limit === 'number' ? `number ${shown}` : shown}`,
    ]);
  });

  it.each(['60', 60, '1 minute', '0m', '1.5h', '90', '1w', '-1m', ''])('refuses the window %j', (window) => {
    const [issue] = issuesOf(edited(['events_per_client_ip.window', window]));
    expect(issue).toMatch(
      /^events_per_client_ip\.window: must be a duration such as "30s", "1m", "15m", "1h" or "1d", got /,
    );
  });

  it('refuses a window longer than a week', () => {
    expect(issuesOf(edited(['plans.pro.1.window', '8d']))).toEqual([
      'plans.pro[1].window: must be at most 7d, got "8d"',
    ]);
  });

  it('accepts every unit', () => {
    const config = parseRateLimitConfig(
      edited(['categories.read.window', '45s'], ['categories.write.window', '2h'], ['categories.execute.window', '1d']),
    );
    expect(
      [config.categories.read, config.categories.write, config.categories.execute].map((p) => p.windowSeconds),
    ).toEqual([45, 7200, 86_400]);
  });

  it.each(['Read', 'read_only', '1read', '-read', 'a'.repeat(65), 'réad'])('refuses the policy name %j', (name) => {
    expect(issuesOf(edited(['categories.read.name', name]))).toEqual([
      `categories.read.name: must match ^[a-z][a-z0-9-]{0,63}$ (lower case, digits, hyphens), got ${JSON.stringify(name)}`,
    ]);
  });

  it('refuses two policies that could apply together under one name', () => {
    expect(issuesOf(edited(['auth_methods.jwt.name', 'read']))).toEqual([
      'auth_methods.jwt: policy name "read" is already used by categories.read',
    ]);
    expect(issuesOf(edited(['categories.execute.name', 'plan-hour']))).toEqual([
      'categories.execute: policy name "plan-hour" is already used by plans',
    ]);
    expect(issuesOf(edited(['plans.free.1.name', 'plan-minute']))).toEqual([
      'plans.free[1]: policy name "plan-minute" appears twice in this plan',
    ]);
  });

  it('lets plans share policy names, and plans differ in how many windows they have', () => {
    const config = parseRateLimitConfig(
      edited(['plans.enterprise', [{ name: 'plan-minute', limit: 1000, window: '1m' }]]),
    );
    expect(config.plans.enterprise).toEqual([minute('plan-minute', 1000)]);
    expect(config.plans.free.map((p) => p.name)).toEqual(['plan-minute', 'plan-hour']);
  });

  it('refuses an empty or missing list of plan policies', () => {
    expect(issuesOf(edited(['plans.free', []]))).toEqual([
      'plans.free: must be a non-empty list of policies (name, limit, window)',
    ]);
    expect(issuesOf(edited(['plans.free', { name: 'x', limit: 1, window: '1m' }]))).toEqual([
      'plans.free: must be a non-empty list of policies (name, limit, window)',
    ]);
  });

  it('refuses other versions and bucket counts out of range', () => {
    expect(issuesOf(edited(['version', 2]))).toEqual(['version: must be 1, the only version this server reads']);
    expect(issuesOf(edited(['sliding_window.buckets_per_window', 0]))).toEqual([
      'sliding_window.buckets_per_window: must be a whole number from 1 to 3600, got number 0',
    ]);
  });

  it('refuses a document that is not a mapping', () => {
    expect(issuesOf(null)).toEqual([
      '(top level): must be a mapping with fields version, sliding_window, categories, events_per_client_ip, plans, auth_methods, guards, got null',
    ]);
    expect(issuesOf([1])[0]).toMatch(/got a list$/);
    expect(issuesOf(edited(['categories.read', 1000]))).toEqual([
      'categories.read: must be a mapping with fields name, limit, window, got number 1000',
    ]);
  });

  it('reports every issue of a file at once, in one error naming the file', () => {
    const document = edited(
      ['categories.read.limit', 0],
      ['guards.login.window', 'forever'],
      ['auth_methods.oauth', { nme: 'x', limit: 5000, window: '1h' }],
    );
    expect(() => parseRateLimitConfig(document, 'config/rate-limits.yaml')).toThrowError(
      [
        'invalid rate-limit configuration (config/rate-limits.yaml):',
        '  - categories.read.limit: must be a whole number from 1 to 1000000000, got number 0',
        '  - auth_methods.oauth.nme: unknown field (expected one of name, limit, window)',
        '  - auth_methods.oauth: missing field "name"',
        '  - guards.login.window: must be a duration such as "30s", "1m", "15m", "1h" or "1d", got "forever"',
      ].join('\n'),
    );
  });
});

describe('loadRateLimitConfig', () => {
  const directory = mkdtempSync(join(tmpdir(), 'rate-limits-'));
  const file = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };

  it('names a file it cannot read', () => {
    expect(() => loadRateLimitConfig(join(directory, 'absent.yaml'))).toThrowError(
      /absent\.yaml\):\n {2}- cannot read the file: ENOENT/,
    );
  });

  it('refuses YAML that does not parse, with its line', () => {
    expect(() => loadRateLimitConfig(file('broken.yaml', 'version: 1\ncategories: [\n'))).toThrowError(
      /not valid YAML: .*line 3/s,
    );
  });

  it('refuses a key written twice, where the second would silently win', () => {
    expect(() => loadRateLimitConfig(file('twice.yaml', 'version: 1\nversion: 1\n'))).toThrowError(
      /not valid YAML: Map keys must be unique/,
    );
  });
});
