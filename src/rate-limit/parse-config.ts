// Validates the policy file once, at start-up, into a RateLimitConfig. Strict on purpose:
// a misspelt field or a zero limit silently changing who gets throttled is worse than
// a server that refuses to start with a clear message.

import { RateLimitConfigError } from './config-error.ts';
import { describeValue, IssueLog, join, readMapping, readPositiveInteger, readWindowSeconds } from './config-fields.ts';
import { GUARD_KINDS, POLICY_NAME_PATTERN, type PolicyConfig, type RateLimitConfig } from './policy.ts';
import { AUTH_METHODS, PLANS, PRINCIPAL_CATEGORIES } from './subject.ts';

const MAX_LIMIT = 1_000_000_000;
const MAX_BUCKETS_PER_WINDOW = 3600;
const TOP_LEVEL_FIELDS = [
  'version',
  'sliding_window',
  'categories',
  'events_per_client_ip',
  'plans',
  'auth_methods',
  'guards',
] as const;

/** Validates an already-parsed document (the YAML file's content); throws RateLimitConfigError. */
export function parseRateLimitConfig(document: unknown, source = 'rate-limit configuration'): RateLimitConfig {
  const log = new IssueLog();
  const top = readMapping(document, '', TOP_LEVEL_FIELDS, log);
  if (top === null) throw new RateLimitConfigError(source, log.issues);

  if ('version' in top && top['version'] !== 1) log.add('version', 'must be 1, the only version this server reads');

  // A missing section is already reported by readMapping; reading it would report it twice.
  const section = <T>(field: (typeof TOP_LEVEL_FIELDS)[number], read: (value: unknown) => T | null): T | null =>
    field in top ? read(top[field]) : null;

  const bucketsPerWindow = section('sliding_window', (value) => {
    const fields = readMapping(value, 'sliding_window', ['buckets_per_window'], log);
    if (fields === null || !('buckets_per_window' in fields)) return null;
    return readPositiveInteger(
      fields['buckets_per_window'],
      'sliding_window.buckets_per_window',
      MAX_BUCKETS_PER_WINDOW,
      log,
    );
  });
  const categories = section('categories', (value) => readPolicyTable(value, 'categories', PRINCIPAL_CATEGORIES, log));
  const eventsPerClientIp = section('events_per_client_ip', (value) => readPolicy(value, 'events_per_client_ip', log));
  const plans = section('plans', (value) => readPlans(value, log));
  const authMethods = section('auth_methods', (value) => readPolicyTable(value, 'auth_methods', AUTH_METHODS, log));
  const guards = section('guards', (value) => readPolicyTable(value, 'guards', GUARD_KINDS, log));

  if (
    log.issues.length > 0 ||
    bucketsPerWindow === null ||
    categories === null ||
    eventsPerClientIp === null ||
    plans === null ||
    authMethods === null ||
    guards === null
  ) {
    throw new RateLimitConfigError(source, log.issues);
  }
  const config: RateLimitConfig = { bucketsPerWindow, categories, eventsPerClientIp, plans, authMethods, guards };
  checkNamesAreDistinct(config, log);
  if (log.issues.length > 0) throw new RateLimitConfigError(source, log.issues);
  return config;
}

function readPolicy(value: unknown, path: string, log: IssueLog): PolicyConfig | null {
  const fields = readMapping(value, path, ['name', 'limit', 'window'], log);
  if (fields === null || !('name' in fields && 'limit' in fields && 'window' in fields)) return null;
  const name = fields['name'];
  const nameIsValid = typeof name === 'string' && POLICY_NAME_PATTERN.test(name);
  if (!nameIsValid) {
    log.add(
      join(path, 'name'),
      `must match ${POLICY_NAME_PATTERN.source} (lower case, digits, hyphens), got ${describeValue(name)}`,
    );
  }
  const limit = readPositiveInteger(fields['limit'], join(path, 'limit'), MAX_LIMIT, log);
  const windowSeconds = readWindowSeconds(fields['window'], join(path, 'window'), log);
  if (!nameIsValid || limit === null || windowSeconds === null) return null;
  return { name, limit, windowSeconds };
}

function readPolicyTable<Key extends string>(
  value: unknown,
  path: string,
  keys: readonly Key[],
  log: IssueLog,
): Record<Key, PolicyConfig> | null {
  const fields = readMapping(value, path, keys, log);
  if (fields === null) return null;
  const table: Partial<Record<Key, PolicyConfig>> = {};
  for (const key of keys) {
    if (!(key in fields)) continue;
    const policy = readPolicy(fields[key], join(path, key), log);
    if (policy !== null) table[key] = policy;
  }
  return keys.every((key) => table[key] !== undefined) ? (table as Record<Key, PolicyConfig>) : null;
}

function readPlans(value: unknown, log: IssueLog): RateLimitConfig['plans'] | null {
  const fields = readMapping(value, 'plans', PLANS, log);
  if (fields === null) return null;
  const plans: Partial<Record<(typeof PLANS)[number], PolicyConfig[]>> = {};
  for (const plan of PLANS) {
    const path = join('plans', plan);
    const list = fields[plan];
    if (!(plan in fields)) continue;
    if (!Array.isArray(list) || list.length === 0) {
      log.add(path, 'must be a non-empty list of policies (name, limit, window)');
      continue;
    }
    const policies = list.map((item: unknown, index) => readPolicy(item, join(path, index), log));
    if (policies.every((policy) => policy !== null)) plans[plan] = policies;
  }
  return PLANS.every((plan) => plans[plan] !== undefined) ? (plans as RateLimitConfig['plans']) : null;
}

// Names identify counters and appear side by side in `RateLimit-Policy`, so two policies
// that can apply to one request must not share a name. The plans are the one exception:
// an account has a single plan, and sharing `plan-minute` across plans keeps its counter
// when the account changes plan.
function checkNamesAreDistinct(config: RateLimitConfig, log: IssueLog): void {
  const owners = new Map<string, string>();
  const claim = (name: string, owner: string): void => {
    const previous = owners.get(name);
    if (previous === undefined) owners.set(name, owner);
    else if (previous !== owner) log.add(owner, `policy name "${name}" is already used by ${previous}`);
  };
  for (const plan of PLANS) {
    const seenInPlan = new Set<string>();
    config.plans[plan].forEach((policy, index) => {
      if (seenInPlan.has(policy.name))
        log.add(join(join('plans', plan), index), `policy name "${policy.name}" appears twice in this plan`);
      seenInPlan.add(policy.name);
      claim(policy.name, 'plans');
    });
  }
  for (const category of PRINCIPAL_CATEGORIES) claim(config.categories[category].name, join('categories', category));
  claim(config.eventsPerClientIp.name, 'events_per_client_ip');
  for (const method of AUTH_METHODS) claim(config.authMethods[method].name, join('auth_methods', method));
  for (const kind of GUARD_KINDS) claim(config.guards[kind].name, join('guards', kind));
}
