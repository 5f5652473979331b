// Forged and broken access tokens, each refused. Tokens whose only flaw is a claim
// (issuer, audience, times, family) are signed with the server's real signing key,
// read through its own key store, so that the claim check is what refuses them.
import { base64url, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { HOUR, login, MINUTE, movableClock, SECOND, type Session } from './support.ts';

describe('access tokens: attacks and broken tokens are refused', () => {
  const time = movableClock();
  let session: Session;

  const api = useIdentityServer({ clock: time.clock });
  beforeAll(async () => {
    session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
  });

  const call = (token: string) => api.as(token).GET('/v1/auth/verify');
  const parts = (token: string) => token.split('.') as [string, string, string];
  const decode = (part: string) =>
    JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

  /** The claims of the real session token, to reuse in forgeries. */
  const realClaims = () => decode(parts(session.token)[1]);
  const realHeader = () => decode(parts(session.token)[0]);

  /** Signs `claims` with the server's own active key: a genuine signature. */
  async function signedByServer(
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const key = await api.server.server.identity.signingKeys.active();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  }

  async function expectRefused(token: string, code: string) {
    const response = await call(token);
    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe(code);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }

  test('the genuine token is accepted (the control)', async () => {
    const response = await call(session.token);
    expect(response.status).toBe(200);
    expect(response.data?.data).toMatchObject({
      auth_method: 'jwt',
      environment: 'live',
      key_id: null,
      client_id: null,
    });
    expect(realHeader()).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(Object.keys(realClaims()).sort()).toEqual(
      ['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'project_id', 'scope', 'sid', 'sub'].sort(),
    );
    expect(realClaims()).toMatchObject({ iss: api.server.issuer, aud: `${api.server.issuer}/v1` });
    expect((realClaims().exp as number) - (realClaims().iat as number)).toBe(3600);
  });

  test('alg none (unsigned token) is refused', async () => {
    const header = { ...realHeader(), alg: 'none' };
    await expectRefused(`${encode(header)}.${encode({ ...realClaims(), scope: 'keys:write' })}.`, 'invalid_token');
    await expectRefused(`${encode(header)}.${parts(session.token)[1]}.`, 'invalid_token');
  });

  test('HS256 signed with the public key (algorithm confusion) is refused', async () => {
    const jwks = (await api.as(null).GET('/.well-known/jwks.json')).data as { keys: Array<Record<string, string>> };
    const published = jwks.keys.find((k) => k.kid === realHeader().kid)!;
    const publicKey = (await importJWK(published, 'ES256')) as CryptoKey;
    const pem = await exportSPKI(publicKey);
    for (const secret of [pem, JSON.stringify(published), published.x!]) {
      const forged = await new SignJWT(realClaims())
        .setProtectedHeader({ alg: 'HS256', kid: published.kid!, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(forged, 'invalid_token');
    }
  });

  test('a token signed with another key, under an unknown kid or the real kid, is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const unknownKid = await new SignJWT(realClaims())
      .setProtectedHeader({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' })
      .sign(privateKey);
    await expectRefused(unknownKid, 'invalid_token');
    const realKid = await new SignJWT(realClaims())
      .setProtectedHeader({ alg: 'ES256', kid: realHeader().kid as string, typ: 'at+jwt' })
      .sign(privateKey);
    await expectRefused(realKid, 'invalid_token');
    const noKid = await signedByServer(realClaims(), { kid: undefined });
    await expectRefused(noKid, 'invalid_token');
  });

  test('a tampered payload (more scopes, another project) breaks the signature', async () => {
    const [header, , signature] = parts(session.token);
    await expectRefused(
      `${header}.${encode({ ...realClaims(), scope: `${realClaims().scope as string} keys:write` })}.${signature}`,
      'invalid_token',
    );
    await expectRefused(
      `${header}.${encode({ ...realClaims(), project_id: 'proj_000000000000000000000000' })}.${signature}`,
      'invalid_token',
    );
    await expectRefused(`${header}.${parts(session.token)[1]}.${signature.slice(0, -4)}AAAA`, 'invalid_token');
  });

  test('wrong issuer or audience is refused, even with a genuine signature', async () => {
    await expectRefused(await signedByServer({ ...realClaims(), iss: 'https://evil.example.com' }), 'invalid_token');
    await expectRefused(
      await signedByServer({ ...realClaims(), aud: 'https://other-api.example.com' }),
      'invalid_token',
    );
    await expectRefused(await signedByServer({ ...realClaims(), aud: api.server.issuer }), 'invalid_token');
    await expectRefused(await signedByServer(realClaims(), { typ: 'JWT' }), 'invalid_token');
    const { sid: _, ...withoutSid } = realClaims();
    await expectRefused(await signedByServer(withoutSid), 'invalid_token');
    await expectRefused(
      await signedByServer({ ...realClaims(), sid: 'sess_000000000000000000000000' }),
      'invalid_token',
    );
    await expectRefused(
      await signedByServer({ ...realClaims(), sub: 'usr_000000000000000000000000' }),
      'invalid_token',
    );
  });

  test('expired is token_expired; not yet valid is invalid_token; 30 s of clock skew is tolerated', async () => {
    const now = Math.floor(time.now() / 1000);
    await expectRefused(
      await signedByServer({ ...realClaims(), iat: now - 2 * 3600, nbf: now - 2 * 3600, exp: now - 31 }),
      'token_expired',
    );
    expect(
      (await call(await signedByServer({ ...realClaims(), iat: now - 3600, nbf: now - 3600, exp: now - 20 }))).status,
    ).toBe(200);
    await expectRefused(
      await signedByServer({ ...realClaims(), iat: now, nbf: now + 120, exp: now + 3600 }),
      'invalid_token',
    );
    expect(
      (await call(await signedByServer({ ...realClaims(), iat: now + 20, nbf: now + 20, exp: now + 3600 }))).status,
    ).toBe(200);
  });

  test('a real token expires after one hour (the clock moves), and a cached verification does not outlive it', async () => {
    const fresh = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    expect((await call(fresh.token)).status).toBe(200);
    time.advance(HOUR - MINUTE);
    expect((await call(fresh.token)).status).toBe(200);
    time.advance(MINUTE + 31 * SECOND);
    await expectRefused(fresh.token, 'token_expired');
    time.advance(-HOUR - 31 * SECOND);
  });

  test('a token of a revoked family is refused (token_revoked), cached or not', async () => {
    const fresh = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    expect((await call(fresh.token)).status).toBe(200);
    // Reusing a refresh token revokes the family: the access token goes with it.
    const refreshed = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: fresh.refresh_token } });
    expect(refreshed.status).toBe(200);
    const reuse = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: fresh.refresh_token } });
    expect(reuse.status).toBe(401);
    await expectRefused(fresh.token, 'token_revoked');
    await expectRefused(refreshed.data!.data.token, 'token_revoked');
  });

  test('garbage in the Authorization header is invalid_token, never a 500', async () => {
    for (const token of [
      'abc',
      'a.b.c',
      `${encode({ alg: 'ES256' })}.x.y`,
      'eyJ.eyJ.',
      '...',
      `${parts(session.token)[0]}..`,
    ]) {
      await expectRefused(token, 'invalid_token');
    }
  });
});
