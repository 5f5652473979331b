// Configuration: read from the environment once, at start-up, validated as a
// whole (every problem reported at once), then passed to whoever needs it.
// Nothing else in src/ reads process.env.
import path from 'node:path';
import { parseCidr, type Cidr } from './net/cidr.ts';

export type RuntimeEnvironment = 'development' | 'test' | 'production';

export interface Config {
  environment: RuntimeEnvironment;
  host: string;
  port: number;
  /** The URL clients use to reach this server; the OAuth issuer and the base of absolute links. */
  publicUrl: string;
  dataDir: string;
  /** `postgres://...` to use PostgreSQL; null for the embedded SQLite file in dataDir. */
  databaseUrl: string | null;
  redisUrl: string | null;
  /** Namespaces every Redis key, so deployments (or test runs) can share a Redis. */
  redisKeyPrefix: string;
  /** Secrets from the environment (base64, 32 bytes); null means "generate and keep in dataDir" (never in production). */
  hashSecret: Buffer | null;
  encryptionKey: Buffer | null;
  /** Secrets being rotated out: still accepted for what was stored under them. */
  previousHashSecrets: Buffer[];
  previousEncryptionKeys: Buffer[];
  /** Networks whose X-Forwarded-For / X-Forwarded-Proto are believed. */
  trustedProxies: Cidr[];
  /** Plain HTTP from loopback is accepted (local development and tests); never in production. */
  allowLoopbackHttp: boolean;
  tls: { certFile: string; keyFile: string } | null;
  validateResponses: boolean;
  bodyLimitBytes: number;
  logLevel: string;
  rateLimitConfigFile: string;
  /**
   * The deadline of every call to PostgreSQL and Redis (connect, query, command). A call
   * that misses it, or a dependency known to be down, makes the request a fast 503.
   */
  dependencyTimeoutMs: number;
  /** What SIGTERM / SIGINT start (src/main.ts, src/shutdown.ts). */
  shutdown: {
    /** How long /health answers 503 and every answer closes its connection, while new connections are still accepted. */
    drainMs: number;
    /** From the signal to the exit, whatever hangs: past it, the process exits 1 naming what it waited for. */
    timeoutMs: number;
  };
  /** First start: the owner's login, when given (otherwise a password is generated and printed once). */
  owner: { email: string; password: string | null };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const environmentName = read('NODE_ENV') ?? 'development';
  if (!['development', 'test', 'production'].includes(environmentName)) {
    problems.push(`NODE_ENV must be development, test or production (got "${environmentName}")`);
  }
  const environment = environmentName as RuntimeEnvironment;
  const production = environment === 'production';

  const port = integer('PORT', read('PORT') ?? '3000', 0, 65535, problems);
  const host = read('HOST') ?? '127.0.0.1';
  const publicUrl = (read('PUBLIC_URL') ?? `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    const url = new URL(publicUrl);
    if (production && url.protocol !== 'https:') problems.push('PUBLIC_URL must be an https:// URL in production');
  } catch {
    problems.push(`PUBLIC_URL is not a URL: "${publicUrl}"`);
  }

  const databaseUrl = read('DATABASE_URL') ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push('DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
  const redisUrl = read('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl))
    problems.push('REDIS_URL must start with redis:// or rediss://');
  const redisKeyPrefix = read('REDIS_KEY_PREFIX') ?? 'aetherflow:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisKeyPrefix))
    problems.push('REDIS_KEY_PREFIX must be 1 to 64 letters, digits, ":", "_", "." or "-"');

  const hashSecret = secret('AETHERFLOW_HASH_SECRET', read('AETHERFLOW_HASH_SECRET'), problems);
  const encryptionKey = secret('AETHERFLOW_ENCRYPTION_KEY', read('AETHERFLOW_ENCRYPTION_KEY'), problems);
  const previousHashSecrets = secretList(
    'AETHERFLOW_HASH_SECRET_PREVIOUS',
    read('AETHERFLOW_HASH_SECRET_PREVIOUS'),
    problems,
  );
  const previousEncryptionKeys = secretList(
    'AETHERFLOW_ENCRYPTION_KEY_PREVIOUS',
    read('AETHERFLOW_ENCRYPTION_KEY_PREVIOUS'),
    problems,
  );
  if (hashSecret === null && previousHashSecrets.length > 0)
    problems.push('AETHERFLOW_HASH_SECRET_PREVIOUS needs AETHERFLOW_HASH_SECRET (the new secret)');
  if (encryptionKey === null && previousEncryptionKeys.length > 0)
    problems.push('AETHERFLOW_ENCRYPTION_KEY_PREVIOUS needs AETHERFLOW_ENCRYPTION_KEY (the new key)');
  if (production && hashSecret === null)
    problems.push(
      'AETHERFLOW_HASH_SECRET is required in production (32 random bytes, base64): API keys and tokens are hashed with it',
    );
  if (production && encryptionKey === null)
    problems.push(
      'AETHERFLOW_ENCRYPTION_KEY is required in production (32 random bytes, base64): connection credentials are encrypted with it',
    );

  const trustedProxies: Cidr[] = [];
  for (const entry of (read('TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const cidr = parseCidr(entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`);
    if (cidr) trustedProxies.push(cidr);
    else problems.push(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR network`);
  }

  const certFile = read('TLS_CERT_FILE');
  const keyFile = read('TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined))
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither');

  const validateResponses = flag('VALIDATE_RESPONSES', read('VALIDATE_RESPONSES'), !production, problems);
  const bodyLimitBytes = integer(
    'BODY_LIMIT_BYTES',
    read('BODY_LIMIT_BYTES') ?? String(1024 * 1024),
    1024,
    64 * 1024 * 1024,
    problems,
  );
  const logLevel = read('LOG_LEVEL') ?? (environment === 'test' ? 'warn' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    problems.push(`LOG_LEVEL "${logLevel}" is not a pino level`);

  const dependencyTimeoutMs = integer(
    'DEPENDENCY_TIMEOUT_MS',
    read('DEPENDENCY_TIMEOUT_MS') ?? '1000',
    50,
    60_000,
    problems,
  );
  // A load balancer needs a few seconds to see /health fail and stop sending; a developer's Ctrl-C does not.
  const drainMs = integer(
    'SHUTDOWN_DRAIN_MS',
    read('SHUTDOWN_DRAIN_MS') ?? (production ? '5000' : '0'),
    0,
    300_000,
    problems,
  );
  const shutdownTimeoutMs = integer(
    'SHUTDOWN_TIMEOUT_MS',
    read('SHUTDOWN_TIMEOUT_MS') ?? String(Math.max(20_000, drainMs + 15_000)),
    1_000,
    900_000,
    problems,
  );
  if (shutdownTimeoutMs <= drainMs)
    problems.push(
      `SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}) must be longer than SHUTDOWN_DRAIN_MS (${drainMs}): the drain is part of it`,
    );

  const ownerEmail = read('AETHERFLOW_OWNER_EMAIL') ?? 'owner@example.com';
  if (!/^[^\s@]+@[^\s@]+$/.test(ownerEmail))
    problems.push(`AETHERFLOW_OWNER_EMAIL "${ownerEmail}" is not an email address`);
  const ownerPassword = read('AETHERFLOW_OWNER_PASSWORD') ?? null;
  if (ownerPassword !== null && ownerPassword.length < 12)
    problems.push('AETHERFLOW_OWNER_PASSWORD must be at least 12 characters');

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    environment,
    host,
    port,
    publicUrl,
    dataDir: path.resolve(cwd, read('DATA_DIR') ?? 'data'),
    databaseUrl,
    redisUrl,
    redisKeyPrefix,
    hashSecret,
    encryptionKey,
    previousHashSecrets,
    previousEncryptionKeys,
    trustedProxies,
    allowLoopbackHttp: !production,
    tls: certFile && keyFile ? { certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) } : null,
    validateResponses,
    bodyLimitBytes,
    logLevel,
    rateLimitConfigFile: path.resolve(cwd, read('RATE_LIMIT_CONFIG') ?? 'config/rate-limits.yaml'),
    dependencyTimeoutMs,
    shutdown: { drainMs, timeoutMs: shutdownTimeoutMs },
    owner: { email: ownerEmail.toLowerCase(), password: ownerPassword },
  };
}

function integer(name: string, raw: string, min: number, max: number, problems: string[]): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return min;
  }
  return value;
}

function flag(name: string, raw: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (raw === undefined) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'off', 'no'].includes(raw.toLowerCase())) return false;
  problems.push(`${name} must be true or false (got "${raw}")`);
  return fallback;
}

function secret(name: string, raw: string | undefined, problems: string[]): Buffer | null {
  if (raw === undefined) return null;
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) {
    // Never echo the value: it is a secret, even when malformed.
    problems.push(`${name} must be 32 bytes in base64 (44 characters); generate one with: openssl rand -base64 32`);
    return null;
  }
  return bytes;
}

function secretList(name: string, raw: string | undefined, problems: string[]): Buffer[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .flatMap((item, index) => secret(`${name} (item ${index + 1})`, item, problems) ?? []);
}
