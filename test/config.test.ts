// Configuration is validated once, as a whole, at start-up.
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const secret = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  test('defaults: development on loopback port 3000, SQLite in ./data, responses validated', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      environment: 'development',
      host: '127.0.0.1',
      port: 3000,
      dataDir: '/srv/app/data',
      databaseUrl: null,
      validateResponses: true,
      allowLoopbackHttp: true,
    });
  });

  test('production refuses to start without the hashing and encryption secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://api.example.com' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://api.example.com' });
    } catch (error) {
      expect((error as ConfigError).problems.join('\n')).toMatch(/AETHERFLOW_HASH_SECRET is required in production/);
      expect((error as ConfigError).problems.join('\n')).toMatch(/AETHERFLOW_ENCRYPTION_KEY is required in production/);
    }
  });

  test('production with secrets: no loopback HTTP exemption, response validation off', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://api.example.com',
      AETHERFLOW_HASH_SECRET: secret,
      AETHERFLOW_ENCRYPTION_KEY: secret,
    });
    expect(config.allowLoopbackHttp).toBe(false);
    expect(config.validateResponses).toBe(false);
  });

  test('every problem is reported at once, and secrets are never echoed', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        TRUSTED_PROXIES: '10.0.0.0/33',
        AETHERFLOW_HASH_SECRET: 'hunter2-not-base64-32',
        TLS_CERT_FILE: 'cert.pem',
      });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(5);
      expect(problems.join('\n')).not.toContain('hunter2');
    }
  });

  test('dependency deadline and shutdown: defaults, a drain only in production, and bounds checked', () => {
    expect(loadConfig({})).toMatchObject({ dependencyTimeoutMs: 1000, shutdown: { drainMs: 0, timeoutMs: 20_000 } });
    const production = loadConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://api.example.com',
      AETHERFLOW_HASH_SECRET: secret,
      AETHERFLOW_ENCRYPTION_KEY: secret,
    });
    expect(production.shutdown).toEqual({ drainMs: 5000, timeoutMs: 20_000 });
    expect(loadConfig({ DEPENDENCY_TIMEOUT_MS: '250', SHUTDOWN_DRAIN_MS: '10000' })).toMatchObject({
      dependencyTimeoutMs: 250,
      shutdown: { drainMs: 10_000, timeoutMs: 25_000 },
    });
    try {
      loadConfig({ DEPENDENCY_TIMEOUT_MS: '0', SHUTDOWN_DRAIN_MS: '9000', SHUTDOWN_TIMEOUT_MS: '5000' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DEPENDENCY_TIMEOUT_MS must be an integer from 50 to 60000/);
      expect(problems).toMatch(/SHUTDOWN_TIMEOUT_MS \(5000\) must be longer than SHUTDOWN_DRAIN_MS \(9000\)/);
    }
  });

  test('trusted proxies accept addresses and CIDR networks, IPv4 and IPv6', () => {
    const config = loadConfig({ TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16, ::1, 2001:db8::/32' });
    expect(config.trustedProxies.map((c) => c.text)).toEqual([
      '10.0.0.1/32',
      '192.168.0.0/16',
      '::1/128',
      '2001:db8::/32',
    ]);
  });
});
