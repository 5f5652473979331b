// HTTPS only: plain HTTP is refused (403 https_required) except from loopback in
// development; X-Forwarded-Proto and X-Forwarded-For are believed only from the
// configured proxies; the server's own TLS refuses anything older than TLS 1.3.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createListener } from '../../src/listen.ts';
import { useTestServer } from '../support/api.ts';
import { untypedRequest } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const secret = Buffer.alloc(32, 9).toString('base64');
const production = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://api.example.com',
  AETHERFLOW_HASH_SECRET: secret,
  AETHERFLOW_ENCRYPTION_KEY: secret,
  VALIDATE_RESPONSES: 'true',
};

describe('in production, plain HTTP from loopback is refused', () => {
  const api = useTestServer({ env: production });

  test.each(['/v1/workflows', '/v1/auth/login'])(
    '%s -> 403 https_required, before the credential is looked at',
    async (path) => {
      const response = await untypedRequest(api.server, path === '/v1/workflows' ? 'GET' : 'POST', path, {
        key: api.server.secretKey,
        body: path.endsWith('login') ? { email: 'a@b.co', password: 'x' } : undefined,
      });
      expect(response.status).toBe(403);
      expect(response.error?.error.code).toBe('https_required');
    },
  );

  test('/oauth answers in the OAuth error form', async () => {
    const response = await untypedRequest(api.server, 'POST', '/oauth/token', {
      body: 'grant_type=client_credentials',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'https_required' });
  });

  test('/health and /.well-known answer over plain HTTP (probes, public metadata)', async () => {
    expect((await api.as(null).GET('/health')).status).toBe(200);
  });

  test('X-Forwarded-Proto: https from an untrusted peer changes nothing', async () => {
    const response = await api.client.GET('/v1/workflows', { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(response.status).toBe(403);
  });
});

describe('behind a trusted proxy', () => {
  const api = useTestServer({ env: { ...production, TRUSTED_PROXIES: '127.0.0.1' } });

  test('X-Forwarded-Proto: https from the proxy is believed', async () => {
    const response = await api.client.GET('/v1/workflows', { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(response.status).toBe(200);
  });

  test('X-Forwarded-Proto: http from the proxy is refused', async () => {
    const response = await api.client.GET('/v1/workflows', { headers: { 'X-Forwarded-Proto': 'http' } });
    expect(response.status).toBe(403);
  });

  test('the client address is taken from X-Forwarded-For (audit entries record it)', async () => {
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' };
    const created = await api.client.POST('/v1/workflows', {
      headers: forwarded,
      body: { name: 'Proxy test', trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] },
    });
    expect(created.status).toBe(201);
    const log = await api.client.GET('/v1/audit-logs', {
      params: { query: { request_id: created.headers.get('x-request-id')! } },
      headers: forwarded,
    });
    expect(log.data?.data[0]).toMatchObject({ action: 'workflow.created', ip: '203.0.113.9' });
  });
});

describe('TLS served by the server itself', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aetherflow-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  let server: TestServer;
  let listener: ReturnType<typeof createListener>;
  let port: number;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    server = await startTestServer({ env: production });
    listener = createListener({ tls: { certFile, keyFile } }, server.server.app);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a TLS 1.3 client is served, and HTTPS passes the HTTPS-only guard', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/v1/workflows',
            ca: undefined,
            rejectUnauthorized: false,
            headers: { Authorization: `Bearer ${server.secretKey}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    expect(status).toBe(200);
  });

  test('a client limited to TLS 1.2 is refused during the handshake', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, maxVersion: 'TLSv1.2', rejectUnauthorized: false }, () => {
        socket.end();
        resolve('connected');
      });
      socket.on('error', (error) => resolve(error.message));
    });
    expect(outcome).not.toBe('connected');
    expect(outcome).toMatch(/version|protocol|alert/i);
  });
});
